#!/bin/sh
# Prints coturn's configuration for meshmeet (deploy/turnserver.conf with its
# placeholders filled in):
#
#   deploy/turnserver-conf.sh LISTEN_IP PUBLIC_IP REALM SECRET_FILE > /etc/turnserver.conf
#
# SECRET_FILE is the file meshmeet-server reads with --turn-secret-file: both
# must hold the same secret. The network lab (tests/network) configures its
# coturn with this very script.
set -eu
if [ $# -ne 4 ]; then
  echo "usage: $0 LISTEN_IP PUBLIC_IP REALM SECRET_FILE" >&2
  exit 2
fi
listen_ip=$1 public_ip=$2 realm=$3 secret_file=$4
secret=$(head -n 1 "$secret_file" | tr -d '\r\n')
if [ -z "$secret" ]; then
  echo "$0: $secret_file holds no secret" >&2
  exit 2
fi
case "$listen_ip$public_ip$realm$secret" in
  *[!A-Za-z0-9.:_-]*) echo "$0: addresses, realm and secret may hold only letters, digits and . : _ -" >&2; exit 2 ;;
esac
sed -e "s/@LISTEN_IP@/$listen_ip/g" -e "s/@PUBLIC_IP@/$public_ip/g" -e "s/@REALM@/$realm/g" \
    -e "s/@SECRET@/$secret/g" "$(dirname "$0")/turnserver.conf"
