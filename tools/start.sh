#!/usr/bin/env bash
# npm start: set up what is missing, build, and serve the app on
# http://127.0.0.1:8080 with the embedded SQLite database under data/.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
mkdir -p data
echo "meshmeet: open http://${MESHMEET_HOST:-127.0.0.1}:${MESHMEET_PORT:-8080}/"
exec build/bin/meshmeet-server --db "${MESHMEET_DB:-data/meshmeet.db}" "$@"
