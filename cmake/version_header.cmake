# Writes OUT (a one-line header with the git commit of SRC) when its content changes, so
# that only common/version.cc is compiled again after a commit. Run at every build.
execute_process(COMMAND git -C "${SRC}" rev-parse --short=12 HEAD
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
else()
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE changes RESULT_VARIABLE rc2 ERROR_QUIET)
  if(rc2 EQUAL 0 AND NOT changes STREQUAL "")
    set(commit "${commit}-modified")
  endif()
endif()
set(content "#define SAMENZICHT_GIT_COMMIT \"${commit}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${content}")
  file(WRITE "${OUT}" "${content}")
endif()
