# Run by `cmake --install` (see install.cmake): the configuration and the service unit.
# MC_SOURCE_DIR and MC_BINARY_DIR are set by the install step before it.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(mc_etc /etc)
    set(mc_unitdir /lib/systemd/system)
else()
    set(mc_etc "${CMAKE_INSTALL_PREFIX}/etc")
    set(mc_unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()

set(mc_conf "${mc_etc}/mediaconvertd/mediaconvertd.conf")
if(EXISTS "$ENV{DESTDIR}${mc_conf}")
    message(STATUS "Keeping: $ENV{DESTDIR}${mc_conf}")
else()
    file(INSTALL "${MC_SOURCE_DIR}/packaging/mediaconvertd.conf"
        DESTINATION "${mc_etc}/mediaconvertd" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
        WORLD_READ)
endif()

set(mc_unit "${MC_SOURCE_DIR}/systemd/mediaconvertd.service")
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    file(READ "${mc_unit}" text)
    string(REPLACE "/usr/bin/mediaconvertd" "${CMAKE_INSTALL_PREFIX}/bin/mediaconvertd"
        text "${text}")
    string(REPLACE "/etc/mediaconvertd/" "${mc_etc}/mediaconvertd/" text "${text}")
    set(mc_unit "${MC_BINARY_DIR}/systemd/mediaconvertd.service")
    file(WRITE "${mc_unit}" "${text}")
endif()
file(INSTALL "${mc_unit}" DESTINATION "${mc_unitdir}"
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
