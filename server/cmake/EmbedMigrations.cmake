# Embeds the numbered SQL files of each dialect into one generated C++ source, so that the
# binary carries its schema and needs no files beside it.
function(esocore_embed_migrations output)
    set(body "#include \"store/migrations.h\"\n\nnamespace esocore::store {\n")
    foreach(dialect sqlite postgres)
        file(GLOB files CONFIGURE_DEPENDS
             "${CMAKE_CURRENT_SOURCE_DIR}/migrations/${dialect}/*.sql")
        list(SORT files)
        string(APPEND body "\nnamespace {\nconst Migration k_${dialect}[] = {\n")
        set(count 0)
        foreach(file ${files})
            get_filename_component(name "${file}" NAME_WE)
            string(REGEX MATCH "^[0-9]+" number "${name}")
            math(EXPR version "${number}")
            file(READ "${file}" sql)
            string(APPEND body "    {${version}, \"${name}\", R\"esosql(${sql})esosql\"},\n")
            math(EXPR count "${count} + 1")
        endforeach()
        if(count EQUAL 0)
            string(APPEND body "    {0, \"\", \"\"},\n")
        endif()
        string(APPEND body "};\nconstexpr std::size_t k_${dialect}_count = ${count};\n}  // namespace\n")
    endforeach()
    string(APPEND body "
std::span<const Migration> sqliteMigrations() { return {k_sqlite, k_sqlite_count}; }
std::span<const Migration> postgresMigrations() { return {k_postgres, k_postgres_count}; }

}  // namespace esocore::store
")
    file(CONFIGURE OUTPUT "${output}" CONTENT "${body}" @ONLY)
endfunction()
