# syntax=docker/dockerfile:1
# A dedicated `rewind serve` for a fleet (issue 15): one container = one match server.
#   docker build -t rewind-server .
#   docker run --rm -p 4433:4433/udp -v rewind-data:/var/lib/rewind rewind-server --ai 4
# In Agones: deploy/agones/ (the image's default command runs with --agones).

# Build: the server only (no sound, so no libasound), with the Agones SDK, whose build compiles
# Agones' .proto files with protoc.
FROM rust:1-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends protobuf-compiler \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --no-default-features --features agones --bin rewind \
 && strip target/release/rewind

# Run: a slim base, a non-root user, the certificate in a volume so it survives restarts (clients
# pin its fingerprint: a new one per restart would look like an impostor).
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 rewind \
 && useradd --system --uid 10001 --gid rewind --home-dir /var/lib/rewind --create-home rewind
COPY --from=build /src/target/release/rewind /usr/local/bin/rewind
USER 10001:10001
VOLUME ["/var/lib/rewind"]
# QUIC (the game) is UDP.
EXPOSE 4433/udp
ENTRYPOINT ["/usr/local/bin/rewind", "serve", "--addr", "0.0.0.0:4433", "--data-dir", "/var/lib/rewind"]
# One match to 25 kills or 10 minutes, then the pod is recycled; a plain `docker run` gives its
# own flags instead (e.g. `--ai 4`).
CMD ["--agones", "--score-limit", "25", "--time-limit", "10m", "--stats", "/var/lib/rewind/stats.json"]
