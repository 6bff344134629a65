-- Accent folding (Elasticsearch asciifolding) without the unaccent extension; generated from
-- assets/search/analysis.py:folding_map() so Python and SQL fold identically.
CREATE OR REPLACE FUNCTION search.fold(input text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN translate({replaced}, {from_chars}, {to_chars});
