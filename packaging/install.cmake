# What `cmake --install` and `cpack -G DEB` (which installs with the prefix /usr) put where:
#
#   bin/mediaconvert, bin/mediaconvertd            the programs
#   share/man/man1/mediaconvert.1.gz, man8/...     the man pages (gzip -9n: reproducible)
#   share/doc/mediaconvertd/copyright, changelog.Debian.gz
#   /etc/mediaconvertd/mediaconvertd.conf          the default configuration   } prefix /usr;
#   /lib/systemd/system/mediaconvertd.service      the service unit            } see below
include(GNUInstallDirs)
install(TARGETS mediaconvert mediaconvertd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(mc_gz_files)
foreach(page mediaconvert.1 mediaconvertd.8)
    string(REGEX MATCH "[0-9]$" section ${page})
    configure_file(packaging/man/${page} man/${page} @ONLY)
    add_custom_command(OUTPUT man/${page}.gz
        COMMAND gzip -9nkf ${page}
        WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/man
        DEPENDS ${CMAKE_BINARY_DIR}/man/${page})
    install(FILES ${CMAKE_BINARY_DIR}/man/${page}.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
    list(APPEND mc_gz_files man/${page}.gz)
endforeach()
configure_file(packaging/debian/changelog doc/changelog.Debian COPYONLY)
add_custom_command(OUTPUT doc/changelog.Debian.gz
    COMMAND gzip -9nkf changelog.Debian
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/doc
    DEPENDS ${CMAKE_BINARY_DIR}/doc/changelog.Debian)
list(APPEND mc_gz_files doc/changelog.Debian.gz)
add_custom_target(mc_install_docs ALL DEPENDS ${mc_gz_files})
install(FILES packaging/debian/copyright ${CMAKE_BINARY_DIR}/doc/changelog.Debian.gz
    DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The configuration and the unit live outside the prefix on a Debian host, so where they go
# is decided when installing (cpack installs with its own prefix, not the configured one):
# into /usr they go to /etc and /lib/systemd/system (Debian 12's unit folder); into any
# other prefix (/usr/local, a private folder) under it, with the unit's paths rewritten to
# that prefix. An existing configuration is never overwritten.
install(CODE "set(MC_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(MC_BINARY_DIR \"${CMAKE_BINARY_DIR}\")")
install(SCRIPT packaging/install-system.cmake)
