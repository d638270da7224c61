-- The demo's schema: festival reference data, as an app's migrations would
-- create it. It has what makes pg_restore --data-only fail without
-- superuser: a two-table cycle (festival <-> venue) and a self-reference
-- (artist.mentor_id), plus an audit trigger and an identity column.

CREATE TABLE country (
    code text PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE venue (
    id                   int PRIMARY KEY,
    name                 text NOT NULL,
    country_code         text NOT NULL REFERENCES country,
    flagship_festival_id int
);

CREATE TABLE festival (
    id         int PRIMARY KEY,
    name       text NOT NULL,
    venue_id   int NOT NULL REFERENCES venue,
    starts_on  date NOT NULL,
    tags       text[] NOT NULL DEFAULT '{}',
    details    jsonb
);

ALTER TABLE venue ADD CONSTRAINT venue_flagship_festival_fk
    FOREIGN KEY (flagship_festival_id) REFERENCES festival;

CREATE TABLE artist (
    id        int PRIMARY KEY,
    name      text NOT NULL,
    mentor_id int REFERENCES artist
);

CREATE TABLE performance (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    festival_id int NOT NULL REFERENCES festival,
    artist_id   int NOT NULL REFERENCES artist,
    starts_at   timestamptz NOT NULL,
    fee         numeric(12, 2)
);

CREATE TABLE change_log (
    id         bigserial PRIMARY KEY,
    table_name text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.change_log (table_name) VALUES (TG_TABLE_NAME);
    RETURN NEW;
END $$;

CREATE TRIGGER festival_log AFTER INSERT OR UPDATE ON festival
    FOR EACH ROW EXECUTE FUNCTION log_change();
