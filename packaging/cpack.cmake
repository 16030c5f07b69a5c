# Debian package of what is built so far (`cpack -G DEB` in a build folder). The service,
# its unit and default configuration join the package with the daemon.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mediaconvertd)
set(CPACK_PACKAGE_VENDOR "mediaconvertd")
set(CPACK_PACKAGE_CONTACT "mediaconvertd maintainers <maintainers@mediaconvertd.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "On-prem media processing appliance (transcode, concatenate, audio conversion)")
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
