#!/bin/sh
# The Compose stack's certificate service (POSIX sh; needs openssl, and certbot for letsencrypt).
# Keeps /etc/agentik-certs/live/{fullchain,privkey}.pem (the `certs` volume, read by the proxy,
# which reloads when they change) according to TLS_MODE:
#   selfsigned   made on first start (RSA 2048, 825 days, SAN: DOMAIN, localhost, 127.0.0.1)
#   provided     copied from ./certs/fullchain.pem and ./certs/privkey.pem, checked every
#                CERTS_CHECK_SECONDS (300)
#   letsencrypt  certbot --webroot on the shared acme-webroot volume; tried at start (with a
#                temporary self-signed certificate so nginx can serve the challenge), then twice a day
# The volume is mounted only by this service and the proxy; the key is readable by the proxy's
# unprivileged user (0644 in a 0711 directory: nothing can list it).
set -eu

live=/etc/agentik-certs/live
domain=${DOMAIN:-localhost}
mode=${TLS_MODE:-selfsigned}
umask 022
mkdir -p "$live"
chmod 0711 "$live"

log() { echo "certs: $*" >&2; }

# Installs a certificate pair if it differs from the live one (key first, certificate last:
# the proxy reloads on the change of either, and a reload never sees a half-written pair).
install_pair() {
  if cmp -s "$1" "$live/fullchain.pem" && cmp -s "$2" "$live/privkey.pem"; then
    return 0
  fi
  if ! openssl x509 -in "$1" -noout 2>/dev/null; then
    log "$1 is not a PEM certificate"
    return 1
  fi
  cp "$2" "$live/privkey.pem.new" && chmod 0644 "$live/privkey.pem.new" && mv -f "$live/privkey.pem.new" "$live/privkey.pem"
  cp "$1" "$live/fullchain.pem.new" && chmod 0644 "$live/fullchain.pem.new" && mv -f "$live/fullchain.pem.new" "$live/fullchain.pem"
  log "installed $(openssl x509 -in "$live/fullchain.pem" -noout -subject -enddate | tr '\n' ' ')"
}

selfsigned() {
  work=$(mktemp -d)
  openssl req -x509 -newkey rsa:2048 -sha256 -days 825 -nodes \
    -subj "/CN=$domain" \
    -addext "subjectAltName=DNS:$domain,DNS:localhost,IP:127.0.0.1" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "extendedKeyUsage=serverAuth" \
    -keyout "$work/privkey.pem" -out "$work/fullchain.pem" 2>/dev/null
  install_pair "$work/fullchain.pem" "$work/privkey.pem"
  rm -rf "$work"
  echo "$1" >"$live/origin"
}

case $mode in
  selfsigned)
    if [ "$(cat "$live/origin" 2>/dev/null)" != selfsigned ] || [ ! -s "$live/fullchain.pem" ]; then
      selfsigned selfsigned
      log "self-signed certificate for $domain made; browsers will warn until you use provided or letsencrypt"
    fi
    while :; do sleep 3600; done
    ;;
  provided)
    while :; do
      if [ -s /provided/fullchain.pem ] && [ -s /provided/privkey.pem ]; then
        install_pair /provided/fullchain.pem /provided/privkey.pem && echo provided >"$live/origin"
      else
        log "TLS_MODE=provided: put fullchain.pem and privkey.pem into docker/certs/"
      fi
      sleep "${CERTS_CHECK_SECONDS:-300}"
    done
    ;;
  letsencrypt)
    if [ -z "${LETSENCRYPT_EMAIL:-}" ] || [ "$domain" = localhost ]; then
      log "TLS_MODE=letsencrypt needs DOMAIN (a public name pointing here) and LETSENCRYPT_EMAIL in .env"
      exit 78
    fi
    [ -s "$live/fullchain.pem" ] || selfsigned temporary
    staging=''
    [ "${LETSENCRYPT_STAGING:-false}" = true ] && staging='--test-cert'
    while :; do
      # shellcheck disable=SC2086 # $staging is one optional flag
      if certbot certonly --webroot -w /var/www/acme -d "$domain" --email "$LETSENCRYPT_EMAIL" \
        --agree-tos --non-interactive --keep-until-expiring $staging \
        --config-dir /etc/letsencrypt --work-dir /tmp/certbot-work --logs-dir /tmp/certbot-logs; then
        install_pair "/etc/letsencrypt/live/$domain/fullchain.pem" "/etc/letsencrypt/live/$domain/privkey.pem" &&
          echo letsencrypt >"$live/origin"
        sleep 43200
      else
        log "certbot failed (is $domain pointing here and port 80 open?); retrying in 5 minutes"
        sleep 300
      fi
    done
    ;;
  *)
    log "TLS_MODE must be selfsigned, provided or letsencrypt, got '$mode'"
    exit 78
    ;;
esac
