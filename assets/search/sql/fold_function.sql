-- Accent folding (Elasticsearch asciifolding) without the unaccent extension; generated from
-- assets/search/analysis.py:folding_map() so Python and SQL fold identically.
CREATE OR REPLACE FUNCTION search.fold(input text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    -- pure-ASCII text (most of it) is returned as is without the character-by-character translate()
    RETURN CASE WHEN input ~ '[^[:ascii:]]' THEN translate({replaced}, {from_chars}, {to_chars}) ELSE input END;
