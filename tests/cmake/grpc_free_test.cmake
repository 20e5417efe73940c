# The check of cmake/grpc_free.cmake, tested on the project in grpc_free/: configuring
# passes when the gRPC-free targets link no gRPC, and fails, naming each target and its
# chain, when one links the gRPC adapter privately (through a static library).
#   cmake -DSOURCE_DIR=<repository> -DWORK_DIR=<scratch folder> -P grpc_free_test.cmake
if(NOT SOURCE_DIR OR NOT WORK_DIR)
  message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<repository> -DWORK_DIR=<folder> -P grpc_free_test.cmake")
endif()

function(configure_fixture name core_links out_rc out_text)
  file(REMOVE_RECURSE "${WORK_DIR}/${name}")
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/cmake/grpc_free" -B "${WORK_DIR}/${name}"
            "-DSAMENZICHT_SOURCE_DIR=${SOURCE_DIR}" "-DCORE_LINKS=${core_links}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${out_rc} ${rc} PARENT_SCOPE)
  set(${out_text} "${out}${err}" PARENT_SCOPE)
endfunction()

configure_fixture(clean "" rc text)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gRPC-free fixture refused although no gRPC-free target links gRPC:\n${text}")
endif()

configure_fixture(violation adapter rc text)
if(rc EQUAL 0)
  message(FATAL_ERROR "core links the gRPC adapter and the check let it pass:\n${text}")
endif()
string(REGEX REPLACE "[ \n]+" " " flat "${text}")
foreach(expected
    "core links gRPC: core -> adapter -> gRPC::grpc++"
    "tool links gRPC: tool -> core -> adapter -> gRPC::grpc++")
  string(FIND "${flat}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the refusal does not say \"${expected}\":\n${text}")
  endif()
endforeach()
string(FIND "${flat}" "messages links gRPC" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "messages links no gRPC but was reported:\n${text}")
endif()
message(STATUS "grpc_free: a clean project passes; core -> adapter -> gRPC::grpc++ is refused")
