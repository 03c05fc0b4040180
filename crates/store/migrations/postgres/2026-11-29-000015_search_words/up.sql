-- Search by name at a million requests: a word index beside the trigram one.
-- Russian surnames and first names share their trigrams (`ова`, `нов`), so a
-- trigram search for a name rechecks most of the table; a full-text prefix
-- query (`иванова:* & анна:*`) intersects two short lists. Digits (СНИЛС,
-- policy) stay on the trigram index, which finds any part of a number.
--
-- `ё` is searched as `е`: the search text is rewritten once here, and the
-- service spells both the text and the query that way from now on.
UPDATE consultations SET search_text = replace(search_text, 'ё', 'е')
    WHERE search_text LIKE '%ё%';

CREATE INDEX consultations_search_words ON consultations
    USING gin (to_tsvector('simple'::regconfig, search_text));
