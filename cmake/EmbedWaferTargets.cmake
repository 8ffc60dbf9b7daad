# giga_embed_wafer_targets(OUTPUT ROOT): writes OUTPUT, the shipped wafer
# targets (ROOT/configs/wafers/*.json) as C++ map entries {"name", R"(json)"},
# so that the tools read them from any directory (compiler/Target.cpp).
function(giga_embed_wafer_targets output root)
  file(GLOB files ${root}/configs/wafers/*.json)
  set(entries "")
  foreach(file ${files})
    get_filename_component(name ${file} NAME_WE)
    file(READ ${file} text)
    string(APPEND entries "{\"${name}\", R\"giga(${text})giga\"},\n")
  endforeach()
  file(CONFIGURE OUTPUT ${output} CONTENT "${entries}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${files})
endfunction()
