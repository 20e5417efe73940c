# The layering of the source tree, checked: every `#include "..."` of a project header
# must go down (or stay inside its module), never up or sideways. Run as a test:
#   cmake -DSOURCE_DIR=<repository> -P cmake/check_layering.cmake
# It prints every forbidden edge (file, line, included header, the rule it breaks) and
# fails when there is one. The rules below are the architecture: change them only with
# the design (README "Design" and the module headers).
#
# A module is a top-level folder (estimate/ is one), except that aggregator/<sub>/,
# agency_node/web/ and agency_node/store/ are modules of their own, and rpc/peer.h (with peer.cc) is the module `rpc/peer`: the caller's
# identity and role without gRPC. `ALLOW_<module>` lists the modules it may include (its own
# folder is always allowed). Generated protobuf headers (samenzicht/v1/...) are module
# `proto`. gRPC itself (<grpc...>, <grpcpp/...> and the generated *.grpc.pb.h service
# headers) may be included only by the modules in GRPC_MODULES: the adapters and clients.

set(MODULES
  common crypto model rpc rpc/peer audit presentation proto estimate
  aggregator aggregator/linkage aggregator/store aggregator/query aggregator/admin
  aggregator/present aggregator/dashboard aggregator/intake
  aggregator/server agency_node agency_node/store agency_node/web simulator keyholder)

set(ALLOW_common "")
set(ALLOW_crypto common)
set(ALLOW_proto "")
set(ALLOW_model common crypto proto)
set(ALLOW_rpc common crypto proto rpc/peer)
# Who is calling and in which role, from a certificate: no gRPC, nothing of the project.
set(ALLOW_rpc/peer "")
set(ALLOW_audit common crypto)
set(ALLOW_presentation common)
# The multiple systems estimation is a library of its own: common/ and Abseil only, nothing
# of the aggregator, the node or the contract.
set(ALLOW_estimate common)
# Record linkage works on tokens and the profile only: no store, no query code.
set(ALLOW_aggregator/linkage common model proto)
set(ALLOW_aggregator/store aggregator/linkage audit common crypto model proto)
# The query side counts over what the store loads; it never reaches the server adapters,
# intake or administration above it.
set(ALLOW_aggregator/query
  aggregator/linkage aggregator/store estimate audit common crypto model proto rpc/peer)
# Administration (settings, retention, rotation, backup, the audited store) works through
# the store; it never reaches the query side, intake, the services or the commands above.
set(ALLOW_aggregator/admin aggregator/store audit common crypto model proto rpc/peer)
# Presentation renders responses (protos) in the label table's words; it reads the query
# side's rule texts back, and never reaches the store, administration or the server.
set(ALLOW_aggregator/present aggregator/query common model presentation proto)
# Intake checks and stores batches through the store and the audited store; it never reaches
# the query side, the server adapters or the commands, and knows the caller only as a Peer.
set(ALLOW_aggregator/intake aggregator/admin aggregator/store audit common crypto model proto rpc/peer)
# The gRPC server wires the store, intake, the query side and administration behind its
# thin service adapters; nothing below it includes it, and it never reaches the commands,
# the operator's in-process tools (aggregator/) or the dashboard.
set(ALLOW_aggregator/server
  aggregator/admin aggregator/intake aggregator/query aggregator/store audit common crypto model
  proto rpc rpc/peer)
set(ALLOW_aggregator/dashboard aggregator/present aggregator/query aggregator/store aggregator/linkage common crypto model presentation proto rpc rpc/peer)
set(ALLOW_aggregator
  aggregator/linkage aggregator/store aggregator/query aggregator/admin aggregator/present
  aggregator/dashboard aggregator/intake aggregator/server estimate
  audit common crypto model presentation proto rpc rpc/peer)
# The node never includes the aggregator's code (and the reverse).
set(ALLOW_agency_node agency_node/store common crypto model proto rpc)
# The node's storage (node.db and its users) sits below the rest of the node: no pipeline,
# daemon, clients or gRPC.
set(ALLOW_agency_node/store common crypto model proto)
set(ALLOW_agency_node/web agency_node agency_node/store common crypto model presentation proto rpc)
set(ALLOW_simulator common model proto)
# The key service shares nothing with the node or the aggregator but the contract.
set(ALLOW_keyholder audit common crypto model proto rpc rpc/peer)

# The modules that may include gRPC: its plumbing, the aggregator's server and service
# adapters, its command-line clients (aggregator/commands.cc), the node's clients and the key
# service's server. Intake, the query side, administration, the store and everything below
# them stay free of it.
set(GRPC_MODULES rpc aggregator/server aggregator agency_node keyholder)

# Known exceptions, each a single file edge "FROM_FILE -> INCLUDED_HEADER" with its reason.
# New code does not add to this list; the next restructuring removes them.
set(EXCEPTIONS
  # `agency-node serve` wires the intake page in its main file (wiring only).
  "agency_node/main.cc -> agency_node/web/intake_page.h"
)

function(module_of path out)
  set(m "")
  if(path MATCHES "^samenzicht/v1/")
    set(m proto)
  elseif(path MATCHES "^rpc/peer\\.(h|cc)$")
    set(m rpc/peer)
  elseif(path MATCHES "^aggregator/(linkage|store|query|admin|present|dashboard|intake|server)/")
    set(m "aggregator/${CMAKE_MATCH_1}")
  elseif(path MATCHES "^agency_node/(web|store)/")
    set(m "agency_node/${CMAKE_MATCH_1}")
  elseif(path MATCHES "^([a-z_]+)/")
    list(FIND MODULES "${CMAKE_MATCH_1}" i)
    if(NOT i EQUAL -1)
      set(m "${CMAKE_MATCH_1}")
    endif()
  endif()
  set(${out} "${m}" PARENT_SCOPE)
endfunction()

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=<repository> -P check_layering.cmake")
endif()

set(violations 0)
set(checked 0)
set(used_exceptions "")
foreach(top common crypto model rpc audit presentation estimate aggregator agency_node simulator
            keyholder)
  file(GLOB_RECURSE sources RELATIVE "${SOURCE_DIR}"
       "${SOURCE_DIR}/${top}/*.h" "${SOURCE_DIR}/${top}/*.cc")
  foreach(file IN LISTS sources)
    if(file MATCHES "/node_modules/")
      continue()
    endif()
    module_of("${file}" from)
    if(from STREQUAL "")
      continue()
    endif()
    math(EXPR checked "${checked} + 1")
    # libsodium is used only behind crypto/'s small interfaces.
    if(NOT from STREQUAL "crypto")
      file(STRINGS "${SOURCE_DIR}/${file}" sodium REGEX "^[ \t]*#[ \t]*include[ \t]+<sodium")
      if(sodium)
        message("forbidden include: ${file} includes libsodium (only crypto/ may)")
        math(EXPR violations "${violations} + 1")
      endif()
    endif()
    # gRPC only in the adapters and clients.
    list(FIND GRPC_MODULES "${from}" grpc_allowed)
    if(grpc_allowed EQUAL -1)
      file(STRINGS "${SOURCE_DIR}/${file}" grpc_includes
           REGEX "^[ \t]*#[ \t]*include[ \t]+([<\"]grpc|.*\\.grpc\\.pb\\.h)")
      foreach(line IN LISTS grpc_includes)
        string(STRIP "${line}" line)
        message("forbidden include: ${file}: ${line} (module ${from} may not include gRPC; only ${GRPC_MODULES} may)")
        math(EXPR violations "${violations} + 1")
      endforeach()
    endif()
    file(STRINGS "${SOURCE_DIR}/${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]+\"")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([^\"]+)\".*" "\\1" header "${line}")
      module_of("${header}" to)
      if(to STREQUAL "" OR to STREQUAL from)
        continue()  # a library header, or inside the module
      endif()
      list(FIND ALLOW_${from} "${to}" allowed)
      if(NOT allowed EQUAL -1)
        continue()
      endif()
      list(FIND EXCEPTIONS "${file} -> ${header}" excepted)
      if(NOT excepted EQUAL -1)
        list(APPEND used_exceptions "${file} -> ${header}")
        continue()
      endif()
      message("forbidden include: ${file} includes \"${header}\" (module ${from} may not include ${to}; it may include: ${ALLOW_${from}})")
      math(EXPR violations "${violations} + 1")
    endforeach()
  endforeach()
endforeach()

# An exception that no longer occurs is removed from the list, so the list stays true.
foreach(e IN LISTS EXCEPTIONS)
  list(FIND used_exceptions "${e}" i)
  if(i EQUAL -1)
    message("stale exception (the edge is gone; remove it from cmake/check_layering.cmake): ${e}")
    math(EXPR violations "${violations} + 1")
  endif()
endforeach()

if(violations GREATER 0)
  message(FATAL_ERROR "layering: ${violations} problem(s) in ${checked} files")
endif()
message("layering: ${checked} files, every include goes down or stays in its module")
