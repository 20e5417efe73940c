# Targets that need no gRPC do not link it, checked when CMake configures the project: the
# messages, the model, the store, the query side, the estimate, the dashboard and the other
# layers below the gRPC adapters and clients link samenzicht_proto (Protobuf only), never
# samenzicht_proto_grpc, samenzicht_rpc or gRPC itself, directly or through another target.
#
#   include(cmake/grpc_free.cmake)               # after every add_subdirectory
#   samenzicht_check_grpc_free(samenzicht_model samenzicht_query ...)
#
# A listed target whose link closure (LINK_LIBRARIES and INTERFACE_LINK_LIBRARIES, followed
# through every target, the private links of static libraries included) reaches a gRPC
# library stops the configuration with an error naming the chain, e.g.
#   samenzicht_query links gRPC: samenzicht_query -> samenzicht_rpc -> gRPC::grpc++
# A listed name that is not a target (a folder left out of the build) is skipped.

# A link item that is gRPC: its imported targets, the service stubs, or the library file.
set(SAMENZICHT_GRPC_LINK_REGEX "^gRPC::|^samenzicht_proto_grpc$|(^|/)libgrpc|^-lgrpc|^grpc(\\+\\+)?$")

# The link items `target` names directly, with $<LINK_ONLY:x> read as x.
function(_samenzicht_direct_links target out)
  set(items "")
  get_target_property(type ${target} TYPE)
  get_target_property(imported ${target} IMPORTED)
  set(props INTERFACE_LINK_LIBRARIES)
  if(NOT imported AND NOT type STREQUAL "INTERFACE_LIBRARY")
    list(APPEND props LINK_LIBRARIES)
  endif()
  foreach(p IN LISTS props)
    get_target_property(v ${target} ${p})
    if(v)
      list(APPEND items ${v})
    endif()
  endforeach()
  set(result "")
  foreach(item IN LISTS items)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" item "${item}")
    list(APPEND result "${item}")
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

function(samenzicht_check_grpc_free)
  set(failures "")
  foreach(root IN LISTS ARGN)
    if(NOT TARGET ${root})
      continue()
    endif()
    set(queue ${root})
    set(seen ${root})
    set(found "")
    while(queue AND NOT found)
      list(POP_FRONT queue t)
      _samenzicht_direct_links(${t} links)
      foreach(item IN LISTS links)
        if(item MATCHES "${SAMENZICHT_GRPC_LINK_REGEX}")
          set(found "${item}")
          set("_from_${item}" ${t})
          break()
        endif()
        if(item MATCHES "^\\$<" OR NOT TARGET "${item}")
          continue()  # a file, a flag or a conditional expression: not followed
        endif()
        get_target_property(aliased "${item}" ALIASED_TARGET)
        if(aliased)
          set(item ${aliased})
        endif()
        if(NOT item IN_LIST seen)
          list(APPEND seen ${item})
          list(APPEND queue ${item})
          set("_from_${item}" ${t})
        endif()
      endforeach()
    endwhile()
    if(found)
      set(chain "${found}")
      set(node "${found}")
      while(NOT node STREQUAL root)
        set(node "${_from_${node}}")
        set(chain "${node} -> ${chain}")
      endwhile()
      string(APPEND failures "\n  ${root} links gRPC: ${chain}")
    endif()
  endforeach()
  if(failures)
    message(FATAL_ERROR
      "gRPC-free targets link gRPC (cmake/grpc_free.cmake):${failures}\n"
      "Link samenzicht_proto (the messages) instead of samenzicht_proto_grpc, and "
      "samenzicht_peer instead of samenzicht_rpc, or move the gRPC code to an adapter target.")
  endif()
endfunction()
