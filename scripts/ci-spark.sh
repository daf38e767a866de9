#!/usr/bin/env bash
# The Spark MLlib round trip (test/spark): makes sure Java 17 and pyspark are there, then runs npm run test:spark
# with RECSYS_REQUIRE_SPARK=1, so a missing dependency fails instead of skipping. pyspark (~320 MB) goes into a
# virtualenv outside the clone (RECSYS_SPARK_VENV, default ~/.cache/recsys-spark-venv), installed once and reused.
# Call it from .ci/run after the main tests (the tree must be built: npm ci has run).
set -euo pipefail
cd "$(dirname "$0")/.."

PYSPARK_VERSION=3.5.8   # Spark 3.5 runs on Java 8/11/17; EMR 7.x ships Spark 3.5
NUMPY_VERSION=1.26.4    # pyspark 3.5's MLlib needs numpy < 2
VENV="${RECSYS_SPARK_VENV:-$HOME/.cache/recsys-spark-venv}"

if ! java -version >/dev/null 2>&1; then
  echo "ci-spark: installing a Java 17 runtime"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless
fi
java -version 2>&1 | head -1

PY="$VENV/bin/python"
has_pyspark() { "$1" -c "import pyspark, numpy, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" >/dev/null 2>&1; }
if ! has_pyspark "$PY"; then
  if python3 -m venv "$VENV" >/dev/null 2>&1; then
    echo "ci-spark: installing pyspark $PYSPARK_VERSION into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "pyspark==$PYSPARK_VERSION" "numpy==$NUMPY_VERSION"
  else
    # No venv module (Debian's python3 without python3-venv): the user site instead.
    PY=python3
    if ! has_pyspark "$PY"; then
      echo "ci-spark: installing pyspark $PYSPARK_VERSION into the user site"
      python3 -m pip install -q --user --disable-pip-version-check "pyspark==$PYSPARK_VERSION" "numpy==$NUMPY_VERSION" ||
        python3 -m pip install -q --user --break-system-packages --disable-pip-version-check "pyspark==$PYSPARK_VERSION" "numpy==$NUMPY_VERSION"
    fi
  fi
fi

echo "ci-spark: npm run test:spark (pyspark $("$PY" -c 'import pyspark; print(pyspark.__version__)'))"
RECSYS_REQUIRE_SPARK=1 RECSYS_PYTHON="$PY" npm run test:spark
