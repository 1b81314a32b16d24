#!/usr/bin/env bash
# Installs the independent tools the integration and system tests compare against (the unit tier needs
# none): teem-unu (Debian teem-apps) writes and reads NRRD files, numpy writes and reads .npy files, protoc
# checks the wire contract and Debian's python3 protobuf (python3-protobuf) reads the descriptors that server
# reflection serves, prometheus/promtool (Debian prometheus) check deploy/prometheus/ and scrape a real server
# and trainer, ip (Debian iproute2) makes the network namespaces of the multi-host test and curl scrapes
# across them, openssl makes the certificate authorities and certificates of the TLS tests, and Debian's
# headless chromium (driven by puppeteer-core) loads the crop browser's page. The Python
# client's tests run on Debian's python3 with python3-grpcio, python3-torch (CPU) and python3-pytest, and
# install the package into a venv (python3-venv); the sliding-window importance map and the connected
# components are checked against python3-scipy (scipy.ndimage).
# As root (CI's .ci/run, or `sudo bash scripts/ensure-test-tools.sh`) it installs what is missing with
# apt-get; otherwise it prints the command to run. `npm run setup:tools` runs it.
set -euo pipefail
missing=()
command -v teem-unu >/dev/null 2>&1 || missing+=(teem-apps)
python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy)
/usr/bin/python3 -c 'import google.protobuf' >/dev/null 2>&1 || missing+=(python3-protobuf)
/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy)
/usr/bin/python3 -c 'import grpc' >/dev/null 2>&1 || missing+=(python3-grpcio)
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)
/usr/bin/python3 -c 'import scipy.ndimage' >/dev/null 2>&1 || missing+=(python3-scipy)
/usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || missing+=(python3-pytest)
/usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo bash scripts/ensure-test-tools.sh (or: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing Debian packages for the tests: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
