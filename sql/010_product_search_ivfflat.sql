-- Product search (issue 5), continued: IVFFlat instead of HNSW over the representative rows.
--
-- Measured at 100k demo products (bench/results/vector_search_tuning.md): the catalogue is
-- ~180 tight families of near-identical texts, which HNSW links almost only within themselves;
-- with 007's m = 16, ef_construction = 64 recall@10 was 0.65 at ef_search 100, and no
-- m / ef_construction / ef_search reached 0.98 reliably. IVFFlat's k-means lists follow the
-- families: at 100k, recall@10 0.99-1.00 with 3 to 10 probes, 4-7 ms against 60-75 ms for an
-- exact scan (bench/results/vector_search.md).
--
-- lists = round(sqrt(representative rows)), at least 1. IVFFlat learns its lists from the
-- rows present when it is built, so `zava-mcp embeddings build` rebuilds it (concurrently)
-- when the vectors changed a lot or the row count outgrew the lists
-- (adapters/postgres/vector_index.py); here it is built from what is already embedded (an
-- empty table on a first init: one list until the first build). ZAVA_VECTOR_INDEX=hnsw
-- switches back to HNSW at the next `zava-mcp embeddings build`.
SET LOCAL ROLE zava_owner;
DROP INDEX retail.product_description_embeddings_hnsw_idx;
SET LOCAL maintenance_work_mem = '512MB';
DO $$
DECLARE
    representatives bigint := (SELECT count(*) FROM retail.product_description_embeddings
                               WHERE is_representative);
    lists integer := greatest(1, round(sqrt(representatives)))::integer;
BEGIN
    EXECUTE format(
        'CREATE INDEX product_description_embeddings_ann_idx'
        ' ON retail.product_description_embeddings USING ivfflat (embedding vector_cosine_ops)'
        ' WITH (lists = %s) WHERE is_representative', lists);
    EXECUTE format(
        'COMMENT ON INDEX retail.product_description_embeddings_ann_idx IS %L',
        format('IVFFlat, cosine distance, lists = %s (sqrt of the %s representative rows at'
               ' build time); queries set ivfflat.probes = 5 (40 with filters) and'
               ' ivfflat.iterative_scan = relaxed_order.', lists, representatives));
END
$$;
COMMENT ON COLUMN retail.product_description_embeddings.is_representative IS 'true on one row per (model_id, content_sha256): the rows the vector index holds (products with the same text share the vector).';
