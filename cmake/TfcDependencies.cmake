# TfcDependencies.cmake - find_package for tfc's dependencies, with a message that names the
# Debian package to install when one is missing (tools/setup.sh installs all of them).
#
#   tfc_find_dependency(<Name> DEBIAN <pkg>... [ARGS <find_package arguments>...] [WHY <text>])
#
# A macro, not a function: find_package's results (targets, <Name>_DIR, ...) must reach the
# caller's scope.

macro(tfc_find_dependency tfc_dep_name)
  cmake_parse_arguments(TFC_DEP "" "WHY" "DEBIAN;ARGS" ${ARGN})
  find_package(${tfc_dep_name} ${TFC_DEP_ARGS} QUIET)
  if(NOT ${tfc_dep_name}_FOUND)
    string(REPLACE ";" " " tfc_dep_pkgs "${TFC_DEP_DEBIAN}")
    set(tfc_dep_why "")
    if(TFC_DEP_WHY)
      set(tfc_dep_why " (${TFC_DEP_WHY})")
    endif()
    message(FATAL_ERROR
      "tfc: dependency '${tfc_dep_name}' not found${tfc_dep_why}.\n"
      "Install it with:  apt-get install --no-install-recommends ${tfc_dep_pkgs}\n"
      "or run tools/setup.sh, which installs every package the build and the tests need.")
  endif()
endmacro()
