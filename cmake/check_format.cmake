# The formatting of the files that follow .clang-format, checked: clang-format --dry-run
# --Werror on each; prints the first differences and fails when a file is not formatted.
#   cmake -DSOURCE_DIR=<repository> -DCLANG_FORMAT=<clang-format> -P cmake/check_format.cmake
# The list grows folder by folder as code is formatted (never the whole tree at once).
set(FORMATTED_GLOBS
  aggregator/admin/*.h aggregator/admin/*.cc
  aggregator/present/*.h aggregator/present/*.cc
  aggregator/server/*_service.h aggregator/server/*_service.cc aggregator/server/service_status.h
  aggregator/store/offline.h aggregator/store/offline.cc
  common/json.h common/json.cc tests/common/json_test.cc tests/aggregator/json_format_test.cc
  rpc/peer.h rpc/peer.cc tests/rpc/peer_test.cc
  common/month.h common/month.cc tests/common/month_test.cc
  agency_node/store/*.h agency_node/store/*.cc
  audit/aggregator_events.h audit/aggregator_events.cc tests/audit/aggregator_events_test.cc
  crypto/evaluation_receipt.h crypto/evaluation_receipt.cc tests/crypto/evaluation_receipt_test.cc)

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<repository> -DCLANG_FORMAT=<program> -P check_format.cmake")
endif()
if(NOT CLANG_FORMAT OR NOT EXISTS "${CLANG_FORMAT}")
  message(FATAL_ERROR "clang-format is not installed (Debian package clang-format; deploy/install-deps.sh installs it)")
endif()
set(files "")
foreach(g IN LISTS FORMATTED_GLOBS)
  file(GLOB matched RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/${g}")
  list(APPEND files ${matched})
endforeach()
list(LENGTH files n)
if(n EQUAL 0)
  message(FATAL_ERROR "format: no file matched; the list in cmake/check_format.cmake is stale")
endif()
set(bad 0)
foreach(f IN LISTS files)
  execute_process(COMMAND "${CLANG_FORMAT}" --dry-run --Werror "--style=file" "${f}"
                  WORKING_DIRECTORY "${SOURCE_DIR}" RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(SUBSTRING "${err}" 0 600 head)
    message("not formatted (clang-format -i ${f}):\n${head}")
    math(EXPR bad "${bad} + 1")
  endif()
endforeach()
if(bad GREATER 0)
  message(FATAL_ERROR "format: ${bad} of ${n} file(s) not formatted")
endif()
message("format: ${n} files formatted as .clang-format says")
