-- Product search (issue 5), continued: index one vector per distinct text.
--
-- Catalogues repeat their copy: every size, pack and brand variant of a product line can share
-- one description, so many products have byte-identical vectors. HNSW does not cope with that:
-- identical vectors link only to each other and become a sink the graph search cannot leave.
-- Measured at 100k demo products (203 distinct texts) with every product in the index as 006
-- left it: recall@10 0.53 at any ef_search (40, 100, 200), so 006's expectation did not hold.
-- Now the pipeline embeds each distinct text once and marks one row per (model, text) as its
-- representative; the HNSW index holds only those, and a search expands each nearest text to
-- its products. Every product keeps its own row and vector, so SQL over the table still works.
--
-- HNSW parameters unchanged: m = 16 (graph degree), ef_construction = 64 (build-time candidate
-- list), pgvector's defaults; queries set hnsw.ef_search = 100 and hnsw.iterative_scan =
-- relaxed_order. Measured in bench/vector_search.py (bench/results/vector_search.md).
SET LOCAL ROLE zava_owner;

ALTER TABLE retail.product_description_embeddings
    ADD COLUMN is_representative boolean NOT NULL DEFAULT false;

-- expands a text to its products, in product id order (a search needs only the first few)
CREATE INDEX product_description_embeddings_content_idx
    ON retail.product_description_embeddings (model_id, content_sha256, product_id);

-- one representative per (model, text): the smallest product id
UPDATE retail.product_description_embeddings AS e
SET is_representative = (e.product_id::text = g.representative)
FROM (SELECT model_id, content_sha256, min(product_id::text) AS representative
      FROM retail.product_description_embeddings GROUP BY 1, 2) AS g
WHERE g.model_id = e.model_id AND g.content_sha256 = e.content_sha256;

DROP INDEX retail.product_description_embeddings_hnsw_idx;
CREATE INDEX product_description_embeddings_hnsw_idx
    ON retail.product_description_embeddings USING hnsw (embedding vector_cosine_ops)
    WITH (m = 16, ef_construction = 64)
    WHERE is_representative;

COMMENT ON INDEX retail.product_description_embeddings_hnsw_idx IS 'HNSW, cosine distance, m = 16, ef_construction = 64, over one representative row per distinct text; queries set hnsw.ef_search = 100 and hnsw.iterative_scan = relaxed_order.';
COMMENT ON COLUMN retail.product_description_embeddings.is_representative IS 'true on one row per (model_id, content_sha256): the rows the HNSW index holds (products with the same text share the vector).';
