-- Search by name at a million requests: a word index beside the trigram one.
-- Russian surnames and first names share their trigrams (`ова`, `нов`), so a
-- trigram phrase for a name walks most of the table; a word-prefix query
-- (`иванова* анна*`) reads two short lists. Digits (СНИЛС, policy) stay on
-- the trigram table, which finds any part of a number.
--
-- `ё` is searched as `е`: the search text is rewritten once here, and the
-- service spells both the text and the query that way from now on.
UPDATE consultations SET search_text = replace(search_text, 'ё', 'е')
    WHERE search_text LIKE '%ё%';

CREATE VIRTUAL TABLE consultations_search_words USING fts5(
    search_text,
    content = 'consultations',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO consultations_search_words (consultations_search_words) VALUES ('rebuild');

CREATE TRIGGER consultations_search_words_insert AFTER INSERT ON consultations BEGIN
    INSERT INTO consultations_search_words (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER consultations_search_words_delete AFTER DELETE ON consultations BEGIN
    INSERT INTO consultations_search_words (consultations_search_words, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER consultations_search_words_update AFTER UPDATE OF search_text ON consultations BEGIN
    INSERT INTO consultations_search_words (consultations_search_words, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    INSERT INTO consultations_search_words (rowid, search_text) VALUES (new.id, new.search_text);
END;
