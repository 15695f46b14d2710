# One static library per src/ folder. Dependency direction (DESIGN.md §2) is
# enforced two ways:
#  * link: a library links only the libraries named in DEPS;
#  * include: each library gets a private include root that holds a single
#    symlink to its own folder. Include roots propagate only along DEPS, so
#    `#include "server/x.h"` from src/model fails to compile.
set(SILICA_WARNINGS -Wall -Wextra)
if(SILICA_WERROR)
  list(APPEND SILICA_WARNINGS -Werror)
endif()

function(silica_include_root name folder out_var)
  set(root ${CMAKE_BINARY_DIR}/include_roots/${name})
  get_filename_component(leaf ${folder} NAME)
  file(MAKE_DIRECTORY ${root})
  if(NOT EXISTS ${root}/${leaf})
    file(CREATE_LINK ${folder} ${root}/${leaf} SYMBOLIC)
  endif()
  set(${out_var} ${root} PARENT_SCOPE)
endfunction()

# silica_add_library(<name> [SOURCES ...] DEPS ... [EXTERNAL ...])
# Without SOURCES, every .cc below the folder that is not a *_test.cc is a
# source (so parallel work on one library never edits the same list).
# Unit tests are the *_test.cc files beside the sources; they become one
# test binary per library, labelled "unit".
function(silica_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;EXTERNAL" ${ARGN})
  if(NOT ARG_SOURCES)
    file(GLOB_RECURSE ARG_SOURCES CONFIGURE_DEPENDS
         ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
    list(FILTER ARG_SOURCES EXCLUDE REGEX "_test\\.cc$")
  endif()
  if(NOT ARG_SOURCES)  # a library whose sources have not landed yet
    file(WRITE ${CMAKE_BINARY_DIR}/empty_${name}.cc "")
    set(ARG_SOURCES ${CMAKE_BINARY_DIR}/empty_${name}.cc)
  endif()
  add_library(silica_${name} STATIC ${ARG_SOURCES})
  silica_include_root(${name} ${CMAKE_CURRENT_SOURCE_DIR} root)
  target_include_directories(silica_${name} PUBLIC $<BUILD_INTERFACE:${root}>)
  set(deps)
  foreach(d ${ARG_DEPS})
    list(APPEND deps silica_${d})
  endforeach()
  target_link_libraries(silica_${name} PUBLIC ${deps} ${ARG_EXTERNAL})
  target_compile_options(silica_${name} PRIVATE ${SILICA_WARNINGS})

  if(SILICA_BUILD_TESTS)
    file(GLOB_RECURSE tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
    if(tests)
      add_executable(silica_${name}_test ${tests})
      target_link_libraries(silica_${name}_test PRIVATE silica_${name}
                            GTest::gtest GTest::gtest_main)
      target_compile_options(silica_${name}_test PRIVATE ${SILICA_WARNINGS})
      target_compile_definitions(silica_${name}_test PRIVATE
        SILICA_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
      gtest_discover_tests(silica_${name}_test
        PROPERTIES LABELS unit
        DISCOVERY_TIMEOUT 60)
    endif()
  endif()
endfunction()
