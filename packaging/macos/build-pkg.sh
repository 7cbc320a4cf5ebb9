#!/bin/sh
# Build SendGuard.pkg on macOS from the PyInstaller app (dist/SendGuard.app):
#   pyinstaller --distpath build/bundle packaging/sendguard.spec   (on macOS: makes SendGuard.app)
#   sh packaging/macos/build-pkg.sh build/bundle/SendGuard.app 0.1.0 build/pkg
# Silent install: sudo installer -pkg SendGuard-0.1.0.pkg -target /
set -eu
APP=$1
VERSION=$2
OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
STAGE="$OUT/root"
rm -rf "$STAGE"
mkdir -p "$STAGE/Applications" "$STAGE/Library/LaunchAgents"
cp -R "$APP" "$STAGE/Applications/SendGuard.app"
sed -e 's|/etc/sendguard/policy.toml|"/Library/Application Support/SendGuard/policy.toml"|' \
    -e 's|/usr/share/doc/sendguard/policy.example.toml|resources/policy.example.toml in SendGuard.app|' \
    "$HERE/../linux/policy.toml" > "$STAGE/Applications/SendGuard.app/Contents/Resources/policy.toml"
cp "$HERE/org.sendguard.SendGuard.plist" "$STAGE/Library/LaunchAgents/"
pkgbuild --root "$STAGE" --scripts "$HERE/scripts" --identifier org.sendguard.SendGuard \
    --version "$VERSION" --install-location / "$OUT/SendGuard-component.pkg"
productbuild --package "$OUT/SendGuard-component.pkg" "$OUT/SendGuard-$VERSION.pkg"
echo "$OUT/SendGuard-$VERSION.pkg"
