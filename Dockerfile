# Capstan's own image: the `capstan` binary and the built site (target/site), as the Leptos
# deployment convention has it. Not built in CI yet: no container registry is reachable there
# to pull the base images from (see README).
#
#   docker build -t capstan .
#   docker run -d -p 3000:3000 -v capstan-data:/data \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     --group-add "$(stat -c %g /var/run/docker.sock)" capstan

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/tools.sh scripts/tools.sh
# Tools first, in their own layer: they take half an hour and change rarely.
RUN bash -c 'source scripts/tools.sh && ensure_rust_tools && ensure_wasm_opt'
COPY . .
ENV CARGO_TARGET_DIR=/src/target
RUN bash -c 'source scripts/tools.sh && ensure_wasm_opt && cargo leptos build --release --split --project capstan'

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin capstan \
 && mkdir -p /data && chown capstan /data
COPY --from=build /src/target/release/capstan /app/capstan
COPY --from=build /src/target/site /app/site
ENV LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    LEPTOS_SITE_ROOT=/app/site \
    CAPSTAN_DATA=/data
USER capstan
WORKDIR /data
VOLUME /data
EXPOSE 3000
CMD ["/app/capstan"]
