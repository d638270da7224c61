# seedpack in a small image, for docker-compose.example.yml and CI jobs
# that run containers: docker build -t seedpack .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/seedpack

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --create-home --home-dir /seed seedpack
COPY --from=build /src/target/release/seedpack /usr/local/bin/seedpack
COPY scripts/seed-to-dsn.sh scripts/restore-seed.sh /usr/local/bin/
USER seedpack
WORKDIR /seed
ENTRYPOINT ["seedpack"]
