-- The demo's seed data, loaded into the source database only.

INSERT INTO country VALUES ('BE', 'Belgium'), ('DK', 'Denmark'), ('GB', 'United Kingdom'), ('JP', 'Japan');

-- venue <-> festival is a cycle: insert venues first, festivals, then close the loop.
INSERT INTO venue VALUES (1, 'De Schorre', 'BE', NULL), (2, 'Roskilde Dyrskueplads', 'DK', NULL),
                         (3, 'Worthy Farm', 'GB', NULL), (4, 'Naeba Ski Resort', 'JP', NULL);
INSERT INTO festival VALUES
    (10, 'Tomorrowland', 1, '2026-07-17', '{electronic}', '{"capacity": 400000}'),
    (11, 'Roskilde', 2, '2026-06-27', '{rock,"non-profit"}', '{"capacity": 130000}'),
    (12, 'Glastonbury', 3, '2026-06-24', '{}', '{"capacity": 210000, "fallow_year": false}'),
    (13, 'Fuji Rock', 4, '2026-07-24', '{rock,mountain}', NULL);
UPDATE venue SET flagship_festival_id = id + 9;

-- A mentor may appear after the artists they mentor.
INSERT INTO artist VALUES (1, 'Björk', 4), (2, 'Ryuichi Sakamoto', NULL), (3, 'Aphex Twin', 2),
                          (4, 'Brian Eno', NULL), (5, 'Nils Frahm', 2);

INSERT INTO performance (festival_id, artist_id, starts_at, fee)
SELECT 10 + (i % 4), 1 + (i % 5), timestamptz '2026-06-24 18:00+00' + i * interval '90 minutes', i * 1250.50
FROM generate_series(1, 40) AS i;
