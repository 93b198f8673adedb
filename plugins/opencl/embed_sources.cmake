# cmake -DOUT=<file.inc> -DSOURCES=<a.cl;b.cl> -P embed_sources.cmake
# Writes the OpenCL C sources, in order, as one C++ string expression made of
# raw string literals (split in pieces: some compilers cap one literal's size).
set(text "// Generated from plugins/opencl/cl/*.cl by embed_sources.cmake. Do not edit.\n")
foreach(src ${SOURCES})
  file(READ ${src} body)
  get_filename_component(name ${src} NAME)
  string(APPEND text "\"// ---- ${name}\\n\"\n")
  string(LENGTH "${body}" len)
  set(pos 0)
  while(pos LESS len)
    string(SUBSTRING "${body}" ${pos} 8000 piece)
    string(APPEND text "R\"LOOMCL(${piece})LOOMCL\"\n")
    math(EXPR pos "${pos} + 8000")
  endwhile()
endforeach()
file(WRITE ${OUT}.tmp "${text}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
