#!/bin/sh
# The image's entrypoint: bring the schema and the reference data up to date, then serve.
# Arguments, if any, run that p2c-hub command instead (for example: fx load FILE --format imf).
set -eu
if [ "$#" -gt 0 ]; then
  exec p2c-hub "$@"
fi
p2c-hub migrate
p2c-hub countries load
exec p2c-hub serve
