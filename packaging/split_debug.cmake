# Install-time: strip an installed program and keep its debug information apart, the way Debian
# does (docs/install.md). Included by install(CODE) with
#   RF_PROGRAM    the built program (full debug information), in the build tree
#   RF_INSTALLED  the path it was installed to (under $DESTDIR)
#   RF_PART       "runtime": strip RF_INSTALLED and link it to its debug file (.gnu_debuglink);
#                 "debug": install the debug file as lib/debug/.build-id/xx/yyyy.debug
#   RF_DEBUG_ROOT where "debug" puts lib/debug (under $DESTDIR)
#   RF_OBJCOPY, RF_STRIP, RF_READELF
# The debug file is extracted once per build of the program, into the build tree.
execute_process(COMMAND "${RF_READELF}" -n "${RF_PROGRAM}" OUTPUT_VARIABLE notes
  RESULT_VARIABLE rc)
string(REGEX MATCH "Build ID: ([0-9a-f]+)" found "${notes}")
if(NOT rc EQUAL 0 OR NOT found)
  message(FATAL_ERROR "${RF_PROGRAM} has no build ID (link with --build-id)")
endif()
set(build_id "${CMAKE_MATCH_1}")
string(SUBSTRING "${build_id}" 0 2 id_dir)
string(SUBSTRING "${build_id}" 2 -1 id_file)
get_filename_component(program_name "${RF_PROGRAM}" NAME)
get_filename_component(program_dir "${RF_PROGRAM}" DIRECTORY)
set(debug_file "${program_dir}/debug/${id_dir}/${id_file}.debug")
if(NOT EXISTS "${debug_file}")
  get_filename_component(debug_dir "${debug_file}" DIRECTORY)
  file(MAKE_DIRECTORY "${debug_dir}")
  execute_process(COMMAND "${RF_OBJCOPY}" --only-keep-debug --compress-debug-sections=zlib
    "${RF_PROGRAM}" "${debug_file}.tmp" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "objcopy --only-keep-debug ${RF_PROGRAM} failed")
  endif()
  file(RENAME "${debug_file}.tmp" "${debug_file}")
endif()

if(RF_PART STREQUAL "runtime")
  message(STATUS "Stripping: ${RF_INSTALLED} (debug information: ${id_dir}/${id_file}.debug)")
  # As dh_strip does for programs; .note.gnu.build-id stays.
  execute_process(COMMAND "${RF_STRIP}" --remove-section=.comment --remove-section=.note
    --remove-section=.gnu_debuglink "${RF_INSTALLED}" RESULT_VARIABLE rc)
  if(rc EQUAL 0)
    execute_process(COMMAND "${RF_OBJCOPY}" --add-gnu-debuglink=${debug_file} "${RF_INSTALLED}"
      RESULT_VARIABLE rc)
  endif()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "stripping ${RF_INSTALLED} failed")
  endif()
elseif(RF_PART STREQUAL "debug")
  set(target "${RF_DEBUG_ROOT}/lib/debug/.build-id/${id_dir}/${id_file}.debug")
  message(STATUS "Installing: ${target} (debug information of ${program_name})")
  file(MAKE_DIRECTORY "${RF_DEBUG_ROOT}/lib/debug/.build-id/${id_dir}")
  file(COPY_FILE "${debug_file}" "${target}")
  file(CHMOD "${target}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
