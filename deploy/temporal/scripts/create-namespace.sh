#!/bin/sh
# Register the Temporal namespace the JARVIS workers and CLI use (once; later runs find it).
#
# Runs in the temporalio/admin-tools image (service `temporal-create-namespace` in
# docker-compose.yml) after the server's port is open. Follows
# compose/scripts/create-namespace.sh in temporalio/samples-server.
set -eu

NAMESPACE="${DEFAULT_NAMESPACE:-default}"
RETENTION="${NAMESPACE_RETENTION:-72h}"
TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
MAX_ATTEMPTS="${MAX_ATTEMPTS:-60}"
SLEEP_SECONDS="${SLEEP_SECONDS:-2}"

retry() {
  what="$1"
  shift
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge "$MAX_ATTEMPTS" ]; then
      echo "gave up on: $what (after $attempt attempts)" >&2
      return 1
    fi
    echo "not yet: $what (attempt $attempt/$MAX_ATTEMPTS)"
    attempt=$((attempt + 1))
    sleep "$SLEEP_SECONDS"
  done
}

describe() {
  temporal operator namespace describe --namespace "$NAMESPACE" \
    --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1
}

CREATED=no
create_or_find() {
  describe && return 0
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" \
    --address "$TEMPORAL_ADDRESS" && CREATED=yes
}

retry "Temporal cluster health at $TEMPORAL_ADDRESS" \
  temporal operator cluster health --address "$TEMPORAL_ADDRESS"
retry "namespace '$NAMESPACE' registered" create_or_find
retry "namespace '$NAMESPACE' visible" describe
if [ "$CREATED" = yes ]; then
  # The docs say registration "takes up to 15 seconds"; the server's namespace caches
  # refresh on their own, so give them that long before the workers start polling.
  sleep "${NAMESPACE_SETTLE_SECONDS:-15}"
fi
# The search attributes goals upsert (planner/contracts/names.py SEARCH_ATTRIBUTES): operators
# find goals by stage, source, template, risk and cost (docs/operations.md). Creating one that
# exists is refused; the loop only adds the missing ones.
for attribute in JarvisStage=Keyword JarvisSource=Keyword JarvisTemplate=Keyword \
                 JarvisRisk=Keyword JarvisCost=Double; do
  name="${attribute%%=*}"
  kind="${attribute#*=}"
  if ! temporal operator search-attribute list --namespace "$NAMESPACE" \
      --address "$TEMPORAL_ADDRESS" | grep -q "^ *$name "; then
    retry "search attribute $name" temporal operator search-attribute create \
      --namespace "$NAMESPACE" --address "$TEMPORAL_ADDRESS" --name "$name" --type "$kind"
  fi
done
echo "namespace '$NAMESPACE' is ready (retention of a new namespace: $RETENTION)"
