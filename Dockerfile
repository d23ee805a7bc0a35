# syntax=docker/dockerfile:1
#
# wikitop container: `docker build -t wikitop .` (BuildKit, the default builder
# of current Docker, is needed for the cache mounts).
#
# The builder and the runtime must share a Debian release (bookworm = debian12)
# so the binary's glibc and libstdc++ match. DuckDB's bundled C++ takes most of
# the build; the cache mounts keep compiled crates between local builds.

FROM rust:1-bookworm AS build
WORKDIR /src
# The whole workspace: Cargo.toml names crates/, tests/ and benches/ targets,
# and cargo refuses a manifest whose targets are missing.
COPY . .
# target/ lives in a cache mount, so the binary is copied out in the same step.
# /out/state is empty: COPY --chown below turns it into a state directory that
# the non-root user owns (distroless has no shell to mkdir/chown in).
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin wikitop \
 && install -D -m 0755 target/release/wikitop /out/wikitop \
 && install -d /out/state

# glibc, libgcc, libstdc++ and CA certificates; no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="wikitop" \
      org.opencontainers.image.description="Daily top-100 Wikipedia pages with their categories, stored in DuckDB or BigQuery." \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
COPY --from=build /out/wikitop /usr/local/bin/wikitop
# With the default DuckDB sink the database goes here; mount a volume on it.
COPY --from=build --chown=65532:65532 /out/state /var/lib/wikitop
WORKDIR /var/lib/wikitop
ENV WIKITOP_LOG_FORMAT=json
USER 65532:65532
ENTRYPOINT ["wikitop"]
CMD ["sync"]
