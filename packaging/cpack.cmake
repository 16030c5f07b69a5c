# The Debian package: `cpack -G DEB` in a Release build folder makes
# mediaconvertd_<version>-<release>_<arch>.deb from what install.cmake installs, with the
# maintainer scripts and conffiles of packaging/debian/. tests/packaging/check-deb.sh
# builds it, runs lintian and installs, removes and purges it in a Debian 12 root.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mediaconvertd)
set(CPACK_PACKAGE_VENDOR "mediaconvertd")
set(CPACK_PACKAGE_CONTACT "mediaconvertd maintainers <maintainers@mediaconvertd.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

# The Debian revision: raise it for a package change of the same upstream version, and add
# the matching entry at the top of packaging/debian/changelog (the package test compares).
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "media processing service with the Alibaba Cloud IMM task API")
set(CPACK_PACKAGE_DESCRIPTION
    "mediaconvertd accepts media tasks over HTTP in the dialect of Alibaba
Cloud IMM (CreateMediaConvertTask, GetTask, ListTasks), keeps them in a
durable SQLite store, runs them on the FFmpeg libraries and notifies
webhooks when they end: transcode, trim, concatenate, convert audio,
capture snapshots and sprite sheets, and turn video into animated GIF or
WebP.

mediaconvert runs the same engine on the command line.

The package installs the systemd service (enabled; it serves 127.0.0.1:8080
with its state in /var/lib/mediaconvertd) and its configuration in
/etc/mediaconvertd/mediaconvertd.conf.")
# Depends from the shared libraries the programs link (dpkg-shlibdeps, from dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Text watermarks: FontName SourceHanSans/-Serif are Debian's Noto CJK fonts; without them
# DejaVu (which libfontconfig1 already pulls in) is used, without CJK glyphs.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "fonts-noto-cjk")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
# 0755 for the scripts and 0644 for conffiles, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
