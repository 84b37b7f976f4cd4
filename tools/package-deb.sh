#!/usr/bin/env bash
# Builds build/meshmeet_<version>_amd64.deb: the server, the web app, a
# hardened systemd unit reading /etc/meshmeet/meshmeet.env, and a system user.
#
#   npm run package        (builds what is missing first)
#   sudo apt install ./build/meshmeet_<version>_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^project(meshmeet VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
arch=$(dpkg --print-architecture)
deb=build/meshmeet_${version}_${arch}.deb

if [ ! -x build/bin/meshmeet-server ] || [ ! -f build/web/index.html ]; then
  tools/build.sh
fi

stage=build/deb/root
rm -rf build/deb
install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/meshmeet" "$stage/lib/systemd/system" \
  "$stage/usr/lib/sysusers.d" "$stage/etc/meshmeet" "$stage/usr/share/doc/meshmeet"
install -m 0755 -s build/bin/meshmeet-server "$stage/usr/bin/meshmeet-server"
cp -r build/web "$stage/usr/share/meshmeet/web"
install -m 0644 deploy/debian/meshmeet.service "$stage/lib/systemd/system/meshmeet.service"
install -m 0644 deploy/debian/sysusers.conf "$stage/usr/lib/sysusers.d/meshmeet.conf"
install -m 0640 deploy/debian/meshmeet.env "$stage/etc/meshmeet/meshmeet.env"
install -m 0644 README.md docs/privacy.md "$stage/usr/share/doc/meshmeet/"
install -m 0644 deploy/turnserver.conf deploy/turnserver-conf.sh "$stage/usr/share/doc/meshmeet/"
for script in postinst prerm postrm; do
  install -m 0755 "deploy/debian/$script" "$stage/DEBIAN/$script"
done
echo /etc/meshmeet/meshmeet.env > "$stage/DEBIAN/conffiles"

# The libraries the binary links, as Debian names them.
shlibs=$(mktemp -d)
mkdir -p "$shlibs/debian"
printf 'Source: meshmeet\n\nPackage: meshmeet\nArchitecture: any\n' > "$shlibs/debian/control"
depends=$(cd "$shlibs" && dpkg-shlibdeps -O "$OLDPWD/$stage/usr/bin/meshmeet-server" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
rm -rf "$shlibs"
[ -n "$depends" ] || { echo "package-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

cat > "$stage/DEBIAN/control" <<CONTROL
Package: meshmeet
Version: $version
Architecture: $arch
Maintainer: meshmeet <meshmeet@localhost>
Depends: $depends, systemd
Recommends: coturn
Section: net
Priority: optional
Installed-Size: $(du -sk "$stage" | cut -f1)
Description: mesh video meetings whose server never carries media
 A signaling server for browser meetings in which every participant connects
 to every other over WebRTC: the server creates meetings, keeps the roster
 and relays the negotiation, and never sees sound or video. Serves its web
 app on the same port. Runs as the system service meshmeet, configured in
 /etc/meshmeet/meshmeet.env.
CONTROL

dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
