-- Product search (issue 5): documentation of the vector columns and of the HNSW index.
--
-- The HNSW cosine index on the vectors stays as sql/002 built it: m = 16 (graph degree) and
-- ef_construction = 64 (build-time candidate list), pgvector's defaults. Measured at 100k
-- products (bench/vector_search.py, bench/results/vector_search.md) they give recall@10 >= 0.98
-- against an exact scan with ef_search = 100, which the search adapter sets per query
-- (set_config('hnsw.ef_search', ..., true)), together with hnsw.iterative_scan = relaxed_order
-- so that filtered searches (category, price, in stock) keep scanning until enough rows pass.
-- No b-tree on model_id on purpose: every row normally has the same model, so it would never
-- filter anything, and on a small catalogue it tempts the planner away from the HNSW index.
SET LOCAL ROLE zava_owner;

COMMENT ON INDEX retail.product_description_embeddings_hnsw_idx IS 'HNSW, cosine distance, m = 16, ef_construction = 64; queries set hnsw.ef_search = 100 and hnsw.iterative_scan = relaxed_order.';
COMMENT ON COLUMN retail.product_description_embeddings.embedding IS 'Unit-length embedding (384 dimensions) of the product type and the first sentence of its description; compare with <=> (cosine distance).';
COMMENT ON COLUMN retail.product_description_embeddings.model_id IS 'Model and size that made the vector, e.g. sentence-transformers/all-MiniLM-L6-v2@384; vectors of different models are not comparable.';
COMMENT ON COLUMN retail.product_description_embeddings.content_sha256 IS 'sha256 of the exact text embedded; a product whose text changed is re-embedded by `zava-mcp embeddings build`.';
