#!/bin/sh
# tests/corpus/make_corpus.sh: make the certificate corpus the lib/pki tests read, with
# the openssl CLI and keytool (Debian's JDK), plus Debian's CA bundle.
#
#   make_corpus.sh OUT          OUT a directory (made), or a path ending in .tar
#
# OUT receives the files and manifest.txt, one line per file: "FILE PASSWORD RESULT
# CERTS KEYS" (PASSWORD "-" for none; RESULT the clm_err pki_read() must return: OK,
# PARSE, UNAUTHENTICATED, NOT_FOUND or UNSUPPORTED; CERTS and KEYS the number of items
# it must read, "*" for any). lib/pki/corpus_check reads it.
#
# What is in it: RSA (2048-4096, PSS) / EC (P-256, P-384, P-521, secp256k1, brainpool) /
# Ed25519 / Ed448 certificates; many SANs, IP SANs, IDN names; odd DNs (escaped commas, plus
# signs, multi-valued RDNs, UTF-8, BMPString, unknown attribute OIDs); expired,
# not-yet-valid, GeneralizedTime and v1 certificates; a chain of 7; every extension clm
# reads, Microsoft template extensions included; PEM (with junk, CRLF), DER, PKCS#7
# (PEM and DER), PKCS#12 (AES/PBES2, legacy RC2+3DES, 3DES), JKS (trusted and key
# entries) and JCEKS from keytool; keys (PKCS#8 plain/encrypted, traditional RSA/EC,
# encrypted PEM, DER); bad inputs (truncated, garbage, wrong passwords, a PEM without
# certificates); a 10,000-certificate bundle.
set -eu

out=$1
tar_out=""
case $out in
*.tar)
    tar_out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
    out=$(mktemp -d "${TMPDIR:-/tmp}/clm-corpus-XXXXXX")
    ;;
esac
mkdir -p "$out"
cd "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/clm-corpus-work-XXXXXX")
trap 'rm -rf "$work"' EXIT
export HOME="$work" # keytool and openssl may write dotfiles
: >manifest.txt

expect() { echo "$*" >>manifest.txt; }
q() { "$@" >/dev/null 2>&1; }

# ---- keys ------------------------------------------------------------------------------
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$work/root-rsa.key"
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$work/root-ec.key"
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa2048.key"
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$work/rsa3072.key"
q openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$work/rsapss.key"
for c in P-256 P-521 secp256k1 brainpoolP256r1; do
    q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:$c -out "$work/$c.key"
done
q openssl genpkey -algorithm ED25519 -out "$work/ed25519.key"
q openssl genpkey -algorithm ED448 -out "$work/ed448.key"

# ---- extensions -------------------------------------------------------------------------
# 1.3.6.1.4.1.311.21.7 = SEQUENCE { OID 1.3.6.1.4.1.311.21.8.123.45, INTEGER 100, INTEGER 3 }
cat >"$work/ext.cnf" <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ca_pathlen]
basicConstraints = critical, CA:TRUE, pathlen:2
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = caIssuers;URI:http://pki.example.com/root.crt
crlDistributionPoints = URI:http://pki.example.com/root.crl

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:www.example.com, DNS:example.com, IP:192.0.2.10, IP:2001:db8::10, email:ops@example.com, URI:https://example.com/service
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = OCSP;URI:http://ocsp.example.com, caIssuers;URI:http://pki.example.com/int.crt
crlDistributionPoints = URI:http://pki.example.com/int.crl, URI:ldap://ldap.example.com/cn=int

[idn]
basicConstraints = CA:FALSE
subjectAltName = DNS:xn--mnchen-3ya.example, DNS:*.xn--mnchen-3ya.example, DNS:xn--80ak6aa92e.example
extendedKeyUsage = serverAuth

[windows]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment, nonRepudiation, dataEncipherment, keyAgreement
extendedKeyUsage = serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning, 1.3.6.1.4.1.311.20.2.2, 1.3.6.1.4.1.311.10.3.4, 1.2.3.4.5.6.7.8.9
subjectAltName = DNS:host.corp.example, otherName:1.3.6.1.4.1.311.20.2.3;UTF8:host@corp.example, IP:10.1.2.3
1.3.6.1.4.1.311.21.7 = DER:30:13:06:0b:2b:06:01:04:01:82:37:15:08:7b:2d:02:01:64:02:01:03
1.3.6.1.4.1.311.20.2 = ASN1:BMPSTRING:WebServer
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always, issuer:always

[plain]
subjectKeyIdentifier = hash
EOF
# many SANs
{
    printf '[many]\nbasicConstraints = CA:FALSE\nsubjectAltName = DNS:many.example'
    i=1
    while [ $i -le 300 ]; do printf ', DNS:h%d.many.example' $i; i=$((i + 1)); done
    i=1
    while [ $i -le 40 ]; do printf ', IP:198.51.100.%d' $i; i=$((i + 1)); done
    printf '\n'
} >>"$work/ext.cnf"

# self-signed CA: NAME SUBJECT KEY [MD]
selfsigned() {
    q openssl req -x509 -new -key "$work/$3" -subj "$2" -days 3650 "-${4:-sha256}" \
        -config "$work/ext.cnf" -extensions ca -out "$work/$1.crt"
}
# issue: NAME SUBJECT KEY ISSUER ISSUER_KEY SECTION [extra x509 options...]
issue() {
    name=$1 subject=$2 key=$3 issuer=$4 issuer_key=$5 section=$6
    shift 6
    q openssl req -new -key "$work/$key" -subj "$subject" -utf8 -out "$work/$name.csr" "$@"
    openssl x509 -req -in "$work/$name.csr" -CA "$work/$issuer.crt" -CAkey "$work/$issuer_key" \
        -set_serial "0x$(openssl rand -hex 16)" -days 400 -extfile "$work/ext.cnf" \
        -extensions "$section" -out "$work/$name.crt" 2>/dev/null
}

selfsigned root-rsa "/C=US/O=clm corpus/CN=clm corpus RSA root" root-rsa.key
selfsigned root-ec "/C=DE/O=clm corpus/CN=clm corpus EC root" root-ec.key sha384
issue int-rsa "/C=US/O=clm corpus/OU=Issuing/CN=clm corpus RSA intermediate" rsa3072.key \
    root-rsa root-rsa.key ca_pathlen
issue server-rsa "/C=US/ST=California/L=San Francisco/O=Example, Inc./CN=www.example.com" \
    rsa2048.key int-rsa rsa3072.key server
issue server-ec "/CN=ec.example.com/O=Example/C=DE" P-256.key root-ec root-ec.key server
issue server-p521 "/CN=p521.example.com" P-521.key root-ec root-ec.key server
issue server-k1 "/CN=secp256k1.example.com" secp256k1.key root-ec root-ec.key server
issue server-brainpool "/CN=brainpool.example.com" brainpoolP256r1.key root-ec root-ec.key server
issue server-ed25519 "/CN=ed25519.example.com" ed25519.key root-ec root-ec.key server
issue server-ed448 "/CN=ed448.example.com" ed448.key root-ec root-ec.key server
issue server-pss "/CN=pss.example.com" rsapss.key root-rsa root-rsa.key server
issue server-sha512 "/CN=sha512.example.com" rsa2048.key root-rsa root-rsa.key server -sha512
q openssl x509 -req -in "$work/server-sha512.csr" -CA "$work/root-rsa.crt" \
    -CAkey "$work/root-rsa.key" -set_serial 77 -days 30 -sha1 -out "$work/sha1-signed.crt"
q openssl x509 -req -in "$work/server-sha512.csr" -CA "$work/root-rsa.crt" \
    -CAkey "$work/root-rsa.key" -set_serial 78 -days 30 -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:32 -extfile "$work/ext.cnf" -extensions plain \
    -out "$work/pss-signed.crt"
issue many-sans "/CN=many.example" P-256.key int-rsa rsa3072.key many
issue idn "/CN=münchen.example/O=Bücher & Söhne GmbH/L=Zürich" P-256.key root-ec root-ec.key idn
issue windows "/DC=example/DC=corp/CN=host.corp.example/emailAddress=admin@corp.example" \
    rsa2048.key int-rsa rsa3072.key windows
issue odd-dn '/CN=Smith\, John/O=a+b=c "quoted" <x>;y/OU=#hash/OU= spaced /1.2.3.4.5.6=custom attribute/serialNumber=12345' \
    P-256.key root-ec root-ec.key plain
issue multi-rdn "/O=Example/OU=Ops+CN=ops.example.com/UID=ops" P-256.key root-ec root-ec.key plain \
    -multivalue-rdn
issue greek-dn "/CN=Ωμέγα.example/O=Ελληνικά" P-256.key root-ec root-ec.key plain -utf8 \
    -config /dev/null
# v1 (no extensions), negative serial
q openssl x509 -req -in "$work/idn.csr" -signkey "$work/P-256.key" -days 30 -out "$work/v1.crt"
q openssl x509 -req -in "$work/idn.csr" -CA "$work/root-ec.crt" -CAkey "$work/root-ec.key" \
    -set_serial -4660 -days 30 -out "$work/negative-serial.crt"

# chain of 7: root-rsa <- c1 <- ... <- c5 <- leaf
prev=root-rsa prev_key=root-rsa.key
for i in 1 2 3 4 5; do
    issue "chain$i" "/O=clm corpus/CN=chain level $i" P-256.key $prev $prev_key ca
    prev=chain$i prev_key=P-256.key
done
issue chain-leaf "/CN=deep.example.com" rsa2048.key $prev $prev_key server

# dates: expired, not yet valid, GeneralizedTime (after 2049): openssl ca sets them
mkdir -p "$work/ca/new"
: >"$work/ca/index.txt"
echo 1000 >"$work/ca/serial"
cat >"$work/ca.cnf" <<EOF
[ca]
default_ca = corpus
[corpus]
dir = $work/ca
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = yes
[anything]
commonName = supplied
organizationName = optional
EOF
dated() { # NAME CN START END
    q openssl req -new -key "$work/P-256.key" -subj "/O=clm corpus/CN=$2" -out "$work/$1.csr"
    q openssl ca -batch -config "$work/ca.cnf" -cert "$work/root-ec.crt" -keyfile "$work/root-ec.key" \
        -startdate "$3" -enddate "$4" -extfile "$work/ext.cnf" -extensions plain \
        -in "$work/$1.csr" -out "$work/$1.crt" -notext
}
dated expired expired.example.com 20200101000000Z 20210101000000Z
dated not-yet-valid future.example.com 20400101000000Z 20410101000000Z
dated generalized generalized.example.com 20250101000000Z 20550101000000Z
dated leap-day leap.example.com 20240229120000Z 20280229120000Z

# ---- files ------------------------------------------------------------------------------
single="root-rsa root-ec int-rsa server-rsa server-ec server-p521 server-k1 server-brainpool
    server-ed25519 server-ed448 server-pss server-sha512 sha1-signed pss-signed many-sans idn windows odd-dn
    multi-rdn greek-dn v1 negative-serial expired not-yet-valid generalized leap-day"
for n in $single; do
    cp "$work/$n.crt" "$n.pem"
    expect "$n.pem - OK 1 0"
done
openssl x509 -in "$work/server-rsa.crt" -outform DER -out server-rsa.der
openssl x509 -in "$work/root-ec.crt" -outform DER -out root-ec.cer
expect "server-rsa.der - OK 1 0"
expect "root-ec.cer - OK 1 0"

# the chain of 7 as a PEM with text and junk between blocks, and with CRLF
{
    echo "Chain for deep.example.com, leaf first"
    for n in chain-leaf chain5 chain4 chain3 chain2 chain1 root-rsa; do
        openssl x509 -in "$work/$n.crt" -noout -subject -issuer
        cat "$work/$n.crt"
        echo "# -- end of $n --"
    done
} >chain7.pem
sed 's/$/\r/' chain7.pem >chain7-crlf.pem
expect "chain7.pem - OK 7 0"
expect "chain7-crlf.pem - OK 7 0"
cat "$work/server-rsa.crt" "$work/int-rsa.crt" "$work/root-rsa.crt" >"$work/rsa-chain.pem"

# PKCS#7
openssl crl2pkcs7 -nocrl -certfile "$work/rsa-chain.pem" -out rsa-chain.p7b
openssl crl2pkcs7 -nocrl -certfile chain7.pem -outform DER -out chain7.p7c
openssl crl2pkcs7 -nocrl -out empty.p7b
expect "rsa-chain.p7b - OK 3 0"
expect "chain7.p7c - OK 7 0"
expect "empty.p7b - NOT_FOUND 0 0"

# PKCS#12: OpenSSL 3's default (AES-256/PBES2), legacy (RC2 + 3DES), 3DES only
openssl pkcs12 -export -in "$work/server-rsa.crt" -inkey "$work/rsa2048.key" \
    -certfile "$work/rsa-chain.pem" -name "www.example.com" -passout pass:Corpus-pfx1 \
    -out server-aes.pfx
openssl pkcs12 -export -legacy -in "$work/server-ec.crt" -inkey "$work/P-256.key" \
    -certfile "$work/root-ec.crt" -passout pass:Corpus-pfx1 -out server-legacy.p12
openssl pkcs12 -export -legacy -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES \
    -in "$work/windows.crt" -inkey "$work/rsa2048.key" -passout pass:Corpus-pfx1 \
    -out windows-3des.pfx
openssl pkcs12 -export -nokeys -in "$work/rsa-chain.pem" -passout pass:Corpus-pfx1 \
    -out certs-only.p12
expect "server-aes.pfx Corpus-pfx1 OK 4 1"
# -legacy alone encrypts the certificates with RC2-40: OpenSSL 3 keeps RC2 in its legacy
# provider, which clm does not load: a clear CLM_ERR_UNSUPPORTED
expect "server-legacy.p12 Corpus-pfx1 UNSUPPORTED 0 0"
expect "windows-3des.pfx Corpus-pfx1 OK 1 1"
expect "certs-only.p12 Corpus-pfx1 OK 3 0"
cp server-aes.pfx wrong-password.pfx
expect "wrong-password.pfx Not-the-password UNAUTHENTICATED 0 0"
head -c 1500 server-aes.pfx >truncated.pfx
expect "truncated.pfx Corpus-pfx1 PARSE 0 0"

# JKS (and JCEKS) from keytool
if command -v keytool >/dev/null 2>&1; then
    kt() { q keytool "$@" -noprompt -storepass changeit; }
    kt -importcert -alias rsa-root -file "$work/root-rsa.crt" -keystore trust.jks -storetype JKS
    kt -importcert -alias ec-root -file "$work/root-ec.crt" -keystore trust.jks -storetype JKS
    kt -importcert -alias int -file "$work/int-rsa.crt" -keystore trust.jks -storetype JKS
    kt -genkeypair -alias tomcat -keyalg RSA -keysize 2048 -dname "CN=tomcat.example.com,O=clm" \
        -validity 90 -keypass changeit -keystore tomcat.jks -storetype JKS
    kt -genkeypair -alias ec -keyalg EC -groupname secp256r1 -dname "CN=ec.tomcat.example.com" \
        -validity 90 -keypass changeit -keystore tomcat.jks -storetype JKS
    q keytool -importkeystore -noprompt -srckeystore server-aes.pfx -srcstoretype PKCS12 \
        -srcstorepass Corpus-pfx1 -destkeystore chain.jks -deststoretype JKS \
        -deststorepass changeit -destkeypass changeit
    kt -importcert -alias root -file "$work/root-rsa.crt" -keystore store.jceks -storetype JCEKS
    expect "trust.jks changeit OK 3 0"
    expect "tomcat.jks changeit OK 2 2"
    expect "chain.jks changeit OK 3 1"
    expect "trust.jks wrongpass UNAUTHENTICATED 0 0"
    expect "store.jceks changeit UNSUPPORTED 0 0"
    head -c 700 trust.jks >truncated.jks
    expect "truncated.jks changeit PARSE 0 0"
else
    echo "make_corpus.sh: keytool not found: no JKS files (apt-get install default-jdk-headless)" >&2
fi

# keys
openssl pkey -in "$work/rsa2048.key" -out key-pkcs8.pem
openssl pkcs8 -topk8 -in "$work/P-256.key" -v2 aes-256-cbc -passout pass:Key-pass1 \
    -out key-pkcs8-encrypted.pem
openssl pkey -in "$work/rsa2048.key" -traditional -out key-rsa-traditional.pem
openssl pkey -in "$work/rsa2048.key" -traditional -aes256 -passout pass:Key-pass1 \
    -out key-rsa-traditional-encrypted.pem
openssl ec -in "$work/P-256.key" -out key-ec-traditional.pem 2>/dev/null
openssl pkey -in "$work/P-256.key" -outform DER -out key-pkcs8.der
openssl pkcs8 -topk8 -in "$work/rsa2048.key" -v2 aes-256-cbc -passout pass:Key-pass1 \
    -outform DER -out key-pkcs8-encrypted.der
expect "key-pkcs8.pem - OK 0 1"
expect "key-pkcs8-encrypted.pem Key-pass1 OK 0 1"
expect "key-rsa-traditional.pem - OK 0 1"
expect "key-rsa-traditional-encrypted.pem Key-pass1 OK 0 1"
expect "key-ec-traditional.pem - OK 0 1"
expect "key-pkcs8.der - OK 0 1"
expect "key-pkcs8-encrypted.der Key-pass1 OK 0 1"
expect "key-pkcs8-encrypted.pem wrong UNAUTHENTICATED 0 0"
expect "key-rsa-traditional-encrypted.pem - UNAUTHENTICATED 0 0"
cat "$work/server-ec.crt" "$work/P-256.key" >cert-and-key.pem
expect "cert-and-key.pem - OK 1 1"

# bad inputs
cp "$work/server-ec.csr" request-only.pem
expect "request-only.pem - NOT_FOUND 0 0"
head -c 900 "$work/server-rsa.crt" >truncated.pem
expect "truncated.pem - PARSE 0 0"
head -c 300 server-rsa.der >truncated.der
expect "truncated.der - PARSE 0 0"
head -c 4096 /dev/zero | tr '\0' 'x' >garbage.bin
expect "garbage.bin - PARSE 0 0"
printf 'not a certificate at all\n' >text.txt
expect "text.txt - PARSE 0 0"
{ cat "$work/server-ec.crt"; sed 's/^MII/MI!/' "$work/root-ec.crt"; } >one-bad-block.pem
expect "one-bad-block.pem - OK 1 0"

# Debian's CA bundle, and 10,000 certificates made of it
if [ -r /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt debian-ca-certificates.crt
    n=$(grep -c 'BEGIN CERTIFICATE' debian-ca-certificates.crt)
    expect "debian-ca-certificates.crt - OK $n 0"
    awk '/BEGIN CERTIFICATE/ { cert = "" } { cert = cert $0 "\n" }
         /END CERTIFICATE/ { certs[n++] = cert }
         END { for (i = 0; i < 10000; i++) printf "%s", certs[i % n] }' \
        debian-ca-certificates.crt >bundle-10000.pem
    expect "bundle-10000.pem - OK 10000 0"
fi

if [ -n "$tar_out" ]; then
    tar -cf "$tar_out" -C "$out" .
    rm -rf "$out"
fi
