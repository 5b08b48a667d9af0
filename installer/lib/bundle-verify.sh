# shellcheck shell=bash
# Verification of an offline bundle, with only what a minimal Debian or RHEL has: tar, gzip,
# gpgv, coreutils, findutils, sed, grep and a POSIX awk (Debian's mawk: no {n} intervals).
# Sourced by install-airgapped.sh (the build inlines it, so the shipped installer is one file)
# and by the tests; the Node updater implements the same checks and must accept and refuse the
# same bundles.
#
#   bundle_verify BUNDLE.tar.gz TRUSTED_KEY WORKDIR
# extracts into WORKDIR (private, empty), checks everything, and on success sets BUNDLE_DIR (the
# extracted top-level folder), BUNDLE_VERSION, BUNDLE_ARCH, BUNDLE_FILES (path<TAB>size lines).
# On a refusal it prints "refused: <what failed>" on stderr and returns 1.

bundle_refuse() {
  printf 'refused: %s\n' "$*" >&2
  return 1
}

# x64 or arm64 for this machine, or the raw `uname -m` when neither.
bundle_machine_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) uname -m ;;
  esac
}

# Checks the archive's entry names and types before anything is extracted; prints the top folder.
bundle_check_listing() {
  local tarball=$1 names types top
  names=$(tar -tzf "$tarball" 2>/dev/null) || bundle_refuse "$tarball is not a readable gzip tar archive" || return 1
  [ -n "$names" ] || bundle_refuse "$tarball is empty" || return 1
  top=$(printf '%s\n' "$names" | awk '
    { name = $0; sub(/\/$/, "", name)
      if (name == "" || substr(name, 1, 1) == "/") { print "BAD absolute path: " $0; exit }
      if (name !~ /^[A-Za-z0-9._+@-]+(\/[A-Za-z0-9._+@-]+)*$/) { print "BAD unexpected characters in entry name: " $0; exit }
      n = split(name, seg, "/")
      for (i = 1; i <= n; i++) if (seg[i] == "." || seg[i] == "..") { print "BAD entry with a . or .. segment: " $0; exit }
      if (top == "") top = seg[1]
      else if (seg[1] != top) { print "BAD more than one top-level entry: " top " and " seg[1]; exit }
    }
    END { if (top != "") print "TOP " top }')
  case "$top" in
    "BAD "*) bundle_refuse "${top#BAD }"; return 1 ;;
  esac
  top=${top#TOP }
  # `tar -tv` shows the type first: - file, d folder, l symlink, h hard link, c/b devices, p fifo.
  types=$(tar -tvzf "$tarball" 2>/dev/null | awk 'substr($0, 1, 1) != "-" && substr($0, 1, 1) != "d" { print; exit }')
  [ -z "$types" ] || bundle_refuse "the archive holds something other than plain files and folders (a link, device or fifo): $types" || return 1
  printf '%s\n' "$top"
}

# Writes KEYFILE (armored or binary, one or more keys) as a binary keyring gpgv can read.
bundle_dearmor_key() {
  local keyfile=$1 out=$2
  if [ ! -f "$keyfile" ] || [ ! -s "$keyfile" ]; then bundle_refuse "the trusted key $keyfile is missing or empty"; return 1; fi
  if grep -q -- '^-----BEGIN PGP PUBLIC KEY BLOCK-----' "$keyfile"; then
    # The base64 body of each block: after the header lines' blank line, before the =CRC line.
    awk '
      /^-----BEGIN PGP PUBLIC KEY BLOCK-----/ { inblock = 1; body = 0; next }
      /^-----END PGP PUBLIC KEY BLOCK-----/ { inblock = 0; next }
      inblock && !body { sub(/\r$/, ""); if ($0 == "") body = 1; next }
      inblock && body { sub(/\r$/, ""); if (substr($0, 1, 1) == "=") next; print }
    ' "$keyfile" | base64 -d >"$out" 2>/dev/null || bundle_refuse "the trusted key $keyfile is not a valid armored OpenPGP key" || return 1
  else
    cp "$keyfile" "$out"
  fi
  [ -s "$out" ] || bundle_refuse "the trusted key $keyfile holds no key" || return 1
}

# Verifies manifest.json.sig against the trusted keyring only (never a key from the bundle).
bundle_verify_signature() {
  local top=$1 keyring=$2 keyname=$3 gnupg=$4 status reason
  [ -f "$top/manifest.json" ] || bundle_refuse 'manifest.json is missing' || return 1
  [ -f "$top/manifest.json.sig" ] || bundle_refuse 'manifest.json.sig is missing: the bundle is not signed' || return 1
  mkdir -m 0700 "$gnupg"
  status=$(gpgv --homedir "$gnupg" --keyring "$keyring" --status-fd 1 \
    "$top/manifest.json.sig" "$top/manifest.json" 2>"$gnupg/gpgv.log") && case "$status" in
    *"[GNUPG:] GOODSIG "*"[GNUPG:] VALIDSIG "* | *"[GNUPG:] VALIDSIG "*"[GNUPG:] GOODSIG "*) return 0 ;;
  esac
  case "$status" in
    *"[GNUPG:] BADSIG "*) reason='bad signature: manifest.json was changed after it was signed' ;;
    *"[GNUPG:] NO_PUBKEY "* | *"[GNUPG:] ERRSIG "*)
      reason="signed by key $(printf '%s\n' "$status" | awk '$2 == "ERRSIG" || $2 == "NO_PUBKEY" { print $3; exit }'), which is not a trusted key" ;;
    *"[GNUPG:] EXPKEYSIG "* | *"[GNUPG:] REVKEYSIG "*) reason='signed by an expired or revoked key' ;;
    *) reason="gpgv: $(tr '\n' ' ' <"$gnupg/gpgv.log")" ;;
  esac
  bundle_refuse "manifest.json.sig does not verify against the trusted key $keyname ($reason)"
}

# Reads manifest.json in its canonical layout; prints "H key value" and "F path size sha256".
bundle_parse_manifest() {
  local manifest=$1 parsed
  [ "$(tail -c 1 "$manifest" | od -An -c | tr -d ' ')" = '\n' ] || bundle_refuse 'manifest.json does not end with a newline' || return 1
  parsed=$(LC_ALL=C awk '
    function bad(msg) { print "BAD manifest.json line " NR ": " msg; failed = 1; exit }
    function header(key, line,   prefix, value) {
      prefix = "  \"" key "\": \""
      if (substr(line, 1, length(prefix)) != prefix || substr(line, length(line) - 1) != "\",") bad("expected \"" key "\": \"...\",")
      value = substr(line, length(prefix) + 1, length(line) - length(prefix) - 2)
      if (value == "" || value !~ /^[0-9A-Za-z:.+-]+$/) bad("unexpected value of " key)
      print "H " key " " value
    }
    NR == 1 { if ($0 != "{") bad("expected {"); next }
    NR == 2 { header("product", $0); next }
    NR == 3 { header("version", $0); next }
    NR == 4 { header("os", $0); next }
    NR == 5 { header("arch", $0); next }
    NR == 6 { header("createdAt", $0); next }
    NR == 7 { header("nodeVersion", $0); next }
    NR == 8 { if ($0 != "  \"files\": [") bad("expected \"files\": ["); next }
    state == 0 && $0 == "  ]" { if (entries == 0) bad("no files listed"); if (comma) bad("a comma after the last entry"); state = 1; next }
    state == 0 {
      if (entries > 0 && !comma) bad("a missing comma after the previous entry")
      pre = "    {\"path\": \""
      if (substr($0, 1, length(pre)) != pre) bad("expected a file entry")
      rest = substr($0, length(pre) + 1)
      i = index(rest, "\", \"size\": "); if (i == 0) bad("expected \"size\" after \"path\"")
      path = substr(rest, 1, i - 1); rest = substr(rest, i + 11)
      i = index(rest, ", \"sha256\": \""); if (i == 0) bad("expected \"sha256\" after \"size\"")
      size = substr(rest, 1, i - 1); rest = substr(rest, i + 13)
      if (substr(rest, length(rest) - 2) == "\"},") { comma = 1; sha = substr(rest, 1, length(rest) - 3) }
      else if (substr(rest, length(rest) - 1) == "\"}") { comma = 0; sha = substr(rest, 1, length(rest) - 2) }
      else bad("expected the entry to end with \"} or \"},")
      if (path !~ /^[A-Za-z0-9._+@-]+(\/[A-Za-z0-9._+@-]+)*$/) bad("path outside the allowed characters: " path)
      n = split(path, seg, "/")
      for (k = 1; k <= n; k++) if (seg[k] == "." || seg[k] == "..") bad("path with a . or .. segment: " path)
      if (path == "manifest.json" || path == "manifest.json.sig") bad("the manifest cannot list itself or its signature")
      if (path in seen) bad("path listed twice: " path)
      seen[path] = 1
      if (size !~ /^(0|[1-9][0-9]*)$/) bad("size is not a decimal integer: " size)
      if (length(sha) != 64 || sha !~ /^[0-9a-f]+$/) bad("sha256 is not 64 lowercase hex digits")
      if (entries > 0 && !(prev < path)) bad("entries are not sorted by path: " path)
      prev = path; entries++
      print "F " path " " size " " sha; next
    }
    state == 1 { if ($0 != "}") bad("expected }"); state = 2; next }
    state == 2 { bad("text after the closing }") }
    END { if (!failed && state != 2) { NR = NR + 1; bad("the manifest ends too early") } }
  ' "$manifest")
  case "$parsed" in
    *"BAD "*) bundle_refuse "$(printf '%s\n' "$parsed" | sed -n 's/^BAD //p' | head -n 1)"; return 1 ;;
  esac
  printf '%s\n' "$parsed"
}

# Checks every listed file (size, sha256), and that nothing unlisted is there.
bundle_verify_files() {
  local top=$1 parsed=$2 listed actual extra missing sums checked
  listed=$(printf '%s\n' "$parsed" | awk '$1 == "F" { print $2 }')
  actual=$(cd "$top" && find . -type f ! -path ./manifest.json ! -path ./manifest.json.sig | sed 's|^\./||' | LC_ALL=C sort)
  missing=$(printf '%s\n' "$listed" | LC_ALL=C sort | LC_ALL=C comm -23 - <(printf '%s\n' "$actual") | head -n 3 | tr '\n' ' ')
  [ -z "$missing" ] || bundle_refuse "listed in manifest.json but missing: $missing" || return 1
  extra=$(printf '%s\n' "$actual" | LC_ALL=C comm -13 <(printf '%s\n' "$listed" | LC_ALL=C sort) - | head -n 3 | tr '\n' ' ')
  [ -z "$extra" ] || bundle_refuse "not listed in manifest.json (unlisted extra file): $extra" || return 1
  # Sizes first (cheap), then the hashes; paths are checked names, safe to pass as arguments.
  sums=$(cd "$top" && printf '%s\n' "$parsed" | awk '$1 == "F" { print $2 }' | xargs -d '\n' stat -c '%n %s' --) ||
    bundle_refuse 'cannot read the bundle files' || return 1
  checked=$(printf '%s\n' "$parsed" | awk -v sizes="$sums" '
    BEGIN { n = split(sizes, lines, "\n"); for (i = 1; i <= n; i++) { split(lines[i], f, " "); size[f[1]] = f[2] } }
    $1 == "F" && size[$2] != $3 { print $2 " is " size[$2] " bytes, manifest.json says " $3; exit }')
  [ -z "$checked" ] || bundle_refuse "size mismatch: $checked" || return 1
  checked=$(cd "$top" && printf '%s\n' "$parsed" | awk '$1 == "F" { print $4 "  " $2 }' | LC_ALL=C sha256sum --check --strict --quiet 2>/dev/null |
    sed -n 's/: FAILED.*$//p' | head -n 3 | tr '\n' ' ') || true
  [ -z "$checked" ] || bundle_refuse "sha256 mismatch (the file was changed): $checked" || return 1
}

bundle_verify() {
  local tarball=$1 keyfile=$2 work=$3 top parsed odd machine product os
  BUNDLE_DIR='' BUNDLE_VERSION='' BUNDLE_ARCH='' BUNDLE_FILES=''
  top=$(bundle_check_listing "$tarball") || return 1
  mkdir -m 0700 "$work/x"
  tar -xzf "$tarball" -C "$work/x" --no-same-owner --no-same-permissions 2>"$work/tar.log" ||
    bundle_refuse "cannot extract $tarball: $(head -n 3 "$work/tar.log" | tr '\n' ' ')" || return 1
  # Belt and braces: what landed must be plain files (one link each) and folders, in one folder.
  odd=$(find "$work/x" -mindepth 1 \( ! -type f ! -type d \) -o \( -type f -links +1 \) | head -n 3 | tr '\n' ' ')
  [ -z "$odd" ] || bundle_refuse "the archive holds something other than plain files and folders: $odd" || return 1
  [ "$(ls -A "$work/x")" = "$top" ] || bundle_refuse "the archive must hold one top-level folder" || return 1
  bundle_dearmor_key "$keyfile" "$work/trusted.gpg" || return 1
  bundle_verify_signature "$work/x/$top" "$work/trusted.gpg" "$keyfile" "$work/gnupg" || return 1
  parsed=$(bundle_parse_manifest "$work/x/$top/manifest.json") || return 1
  product=$(printf '%s\n' "$parsed" | awk '$1 == "H" && $2 == "product" { print $3 }')
  BUNDLE_VERSION=$(printf '%s\n' "$parsed" | awk '$1 == "H" && $2 == "version" { print $3 }')
  os=$(printf '%s\n' "$parsed" | awk '$1 == "H" && $2 == "os" { print $3 }')
  BUNDLE_ARCH=$(printf '%s\n' "$parsed" | awk '$1 == "H" && $2 == "arch" { print $3 }')
  [ "$product" = agentik-os ] || bundle_refuse "manifest.json is for product \"$product\", not agentik-os" || return 1
  printf '%s\n' "$BUNDLE_VERSION" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$' ||
    bundle_refuse "manifest.json version \"$BUNDLE_VERSION\" is not MAJOR.MINOR.PATCH[-prerelease]" || return 1
  [ "$os" = linux ] || bundle_refuse "the bundle is for os \"$os\", this machine runs linux" || return 1
  machine=$(bundle_machine_arch)
  [ "$BUNDLE_ARCH" = "$machine" ] || bundle_refuse "the bundle is for arch $BUNDLE_ARCH, this machine is $machine" || return 1
  [ "$top" = "agentik-os-$BUNDLE_VERSION-linux-$BUNDLE_ARCH" ] ||
    bundle_refuse "the folder $top does not match manifest.json (agentik-os-$BUNDLE_VERSION-linux-$BUNDLE_ARCH)" || return 1
  bundle_verify_files "$work/x/$top" "$parsed" || return 1
  # shellcheck disable=SC2034 # results for the caller
  BUNDLE_DIR="$work/x/$top"
  # shellcheck disable=SC2034
  BUNDLE_FILES=$(printf '%s\n' "$parsed" | awk '$1 == "F" { print $2 "\t" $3 }')
}
