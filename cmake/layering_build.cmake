# The include layering (cmake/check_layering.cmake) is part of the build: every library,
# program and test of the project depends on the check, so an upward or sideways include
# fails `cmake --build` (naming the file, the header and the rule) before anything is
# compiled, not only the `layering_check` test. The check runs again when a source file of
# a checked module or the rules change (the file list is globbed again at build time, so a
# new file is checked too).
#   include(cmake/layering_build.cmake)       # after every add_subdirectory
set(_layering_sources "")
foreach(top common crypto model rpc audit presentation aggregator agency_node simulator keyholder)
  file(GLOB_RECURSE _found CONFIGURE_DEPENDS
       "${CMAKE_SOURCE_DIR}/${top}/*.h" "${CMAKE_SOURCE_DIR}/${top}/*.cc")
  list(FILTER _found EXCLUDE REGEX "/node_modules/")
  list(APPEND _layering_sources ${_found})
endforeach()
set(_layering_stamp ${CMAKE_BINARY_DIR}/layering_check.stamp)
add_custom_command(
  OUTPUT ${_layering_stamp}
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR}
          -P ${CMAKE_SOURCE_DIR}/cmake/check_layering.cmake
  COMMAND ${CMAKE_COMMAND} -E touch ${_layering_stamp}
  DEPENDS ${_layering_sources} ${CMAKE_SOURCE_DIR}/cmake/check_layering.cmake
  COMMENT "Checking the include layering (cmake/check_layering.cmake)"
  VERBATIM)
add_custom_target(samenzicht_layering DEPENDS ${_layering_stamp})

# Every compiled target below `dir` (recursively) depends on the check.
function(samenzicht_depend_on_layering dir)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY|EXECUTABLE)$")
      add_dependencies(${t} samenzicht_layering)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(d IN LISTS subdirs)
    samenzicht_depend_on_layering("${d}")
  endforeach()
endfunction()
samenzicht_depend_on_layering("${CMAKE_SOURCE_DIR}")
