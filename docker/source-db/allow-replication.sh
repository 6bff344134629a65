#!/bin/sh
# First start of the source database: let password-authenticated clients open replication connections
# (`tessera live` streams the change stream over the replication protocol; the image allows it only from
# localhost). The server the image starts next reads this file.
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
