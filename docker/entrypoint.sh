#!/bin/sh
# The image's entrypoint: bring the schema, the reference data and the signing key up to
# date, then serve.
# Arguments, if any, run that p2c-hub command instead (for example: fx load FILE --format imf).
set -eu
if [ "$#" -gt 0 ]; then
  exec p2c-hub "$@"
fi
p2c-hub migrate
p2c-hub countries load
# tokens need a signing key, sealed with HUB_KEY_ENCRYPTION_KEYS; without it the hub serves
# the public graph and refuses to issue tokens
if [ -n "${HUB_KEY_ENCRYPTION_KEYS:-}" ]; then
  p2c-hub keys init
fi
exec p2c-hub serve
