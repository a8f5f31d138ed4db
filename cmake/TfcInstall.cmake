# TfcInstall.cmake - what `cmake --install build --prefix P` puts under P (docs/EMBEDDING.md):
#
#   include/tfc/tfc_runtime.h, tfc_runtime.hpp    the public C API and its C++ wrapper
#   lib/libtfc_runtime.so.<ver> (+ .so.0, .so)    exports the C API only (runtime/CMakeLists.txt)
#   lib/libtfc_runtime.a                          the same code, static
#   lib/libtfc_wait_policy.so                     needed at run time by both (WaitPolicy.h)
#   lib/libtfc_cuda.so                            the CUDA backend module, when built
#   bin/tfc, bin/tfrun                            RPATH $ORIGIN/../lib: they run from P
#   lib/cmake/tfc/tfcConfig*.cmake, tfcTargets*.cmake   find_package(tfc): tfc::runtime,
#                                                 tfc::runtime_static, tfc::wait_policy
#   lib/pkgconfig/tfc.pc                          pkg-config tfc (relocatable: ${pcfiledir})
#
# Everything is in the default component; the Python wheel installs only the `python` component
# (python/CMakeLists.txt), so none of this lands in it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TFC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/tfc)

install(FILES ${TFC_SOURCE_DIR}/runtime/include/tfc/tfc_runtime.h
              ${TFC_SOURCE_DIR}/runtime/include/tfc/tfc_runtime.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tfc)

set_target_properties(tfc_runtime PROPERTIES EXPORT_NAME runtime)
set_target_properties(tfc_runtime_static PROPERTIES EXPORT_NAME runtime_static)
set_target_properties(tfc_wait_policy PROPERTIES EXPORT_NAME wait_policy)
install(TARGETS tfc_runtime tfc_runtime_static tfc_wait_policy EXPORT tfcTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET tfc_cuda)
  install(TARGETS tfc_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

# The tools: found libraries of the prefix through $ORIGIN/../lib, their other libraries (libMLIR
# in /usr/lib/llvm-19/lib, which is not on the loader's path) through the link directories.
foreach(tool tfc tfrun)
  if(TARGET ${tool})
    set_target_properties(${tool} PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}"
                                             INSTALL_RPATH_USE_LINK_PATH ON)
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

install(EXPORT tfcTargets NAMESPACE tfc:: FILE tfcTargets.cmake
        DESTINATION ${TFC_INSTALL_CMAKEDIR})
configure_package_config_file(${TFC_SOURCE_DIR}/cmake/tfcConfig.cmake.in
  ${TFC_BINARY_DIR}/cmake/tfcConfig.cmake INSTALL_DESTINATION ${TFC_INSTALL_CMAKEDIR})
write_basic_package_version_file(${TFC_BINARY_DIR}/cmake/tfcConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${TFC_BINARY_DIR}/cmake/tfcConfig.cmake ${TFC_BINARY_DIR}/cmake/tfcConfigVersion.cmake
        DESTINATION ${TFC_INSTALL_CMAKEDIR})

# tfc.pc: the prefix relative to the file itself, so that the installed tree can move.
file(RELATIVE_PATH TFC_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(${TFC_SOURCE_DIR}/cmake/tfc.pc.in ${TFC_BINARY_DIR}/cmake/tfc.pc @ONLY)
install(FILES ${TFC_BINARY_DIR}/cmake/tfc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
