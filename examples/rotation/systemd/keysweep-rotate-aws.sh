#!/bin/sh
# keysweep-rotate-aws: rotates the AWS access key kept in $KEYSWEEP_CREDENTIALS, the JSON that
# keysweep's file: sink writes (access_key_id, secret_access_key). keysweep-rotate-aws.service runs
# it as /usr/local/libexec/keysweep-rotate-aws.
#
# A run given a key whose predecessor is past its grace period deletes the predecessor, then
# rotates the key: the new key goes to the file, the old one is deactivated at once and deleted by
# a run after KEYSWEEP_DELETE_AFTER. Within the grace period a run sends nothing. With a daily
# timer, the key is therefore replaced every KEYSWEEP_DELETE_AFTER (plus up to a day).
# Exit status: 0 done or nothing due; 1 a step is due that needs the new key; 2 a failure (the
# message says where the new key is; the next run finishes the rotation).
set -eu
creds=${KEYSWEEP_CREDENTIALS:-/etc/myapp/aws.json}
state=${STATE_DIRECTORY:-/var/lib/keysweep}
AWS_ACCESS_KEY_ID=$(jq -er .access_key_id "$creds")
AWS_SECRET_ACCESS_KEY=$(jq -er .secret_access_key "$creds")
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
exec keysweep rotate aws --yes \
    --delete-after "${KEYSWEEP_DELETE_AFTER:-7d}" \
    --journal "$state/journal.jsonl" \
    --sink "file:$creds"
