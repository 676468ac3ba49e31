# Install-time part of packaging/CMakeLists.txt: the unit and the example
# configuration, whose paths depend on CMAKE_INSTALL_PREFIX as the install runs
# (cpack: /usr).  DESTDIR is applied by file(INSTALL).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc /etc)
else()
  set(etc "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(LEARND_SBINDIR "${CMAKE_INSTALL_PREFIX}/${LEARND_SBINDIR_REL}")
set(LEARND_CONFIG "${etc}/learnd/learnd.conf")
configure_file("${LEARND_PKG_SRC}/learnd.service.in" "${LEARND_PKG_BIN}/learnd.service" @ONLY)
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
     FILES "${LEARND_PKG_BIN}/learnd.service")
# an operator's configuration is never overwritten (the .deb makes it a conffile)
if(EXISTS "$ENV{DESTDIR}${LEARND_CONFIG}")
  message(STATUS "Kept: $ENV{DESTDIR}${LEARND_CONFIG} (the example is ${LEARND_PKG_SRC}/learnd.conf)")
else()
  file(INSTALL DESTINATION "${etc}/learnd" TYPE FILE FILES "${LEARND_PKG_SRC}/learnd.conf")
endif()
