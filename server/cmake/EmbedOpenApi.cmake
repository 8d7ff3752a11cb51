# Bundles the OpenAPI document (server/openapi/openapi.yaml and every paths/*.yaml) at build
# time with scripts/openapi-bundle.py and embeds it in a generated C++ source that defines
# api::openApiDocument(). Adding, removing or editing a YAML file rebuilds it.

# Debian's python3 first: bootstrap.sh installs python3-yaml for it.
find_program(ESOCORE_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(ESOCORE_PYTHON python3)
if(NOT ESOCORE_PYTHON)
    message(FATAL_ERROR "python3 is missing: run scripts/bootstrap.sh run")
endif()
execute_process(COMMAND "${ESOCORE_PYTHON}" -c "import yaml"
                RESULT_VARIABLE esocore_python_yaml_missing OUTPUT_QUIET ERROR_QUIET)
if(esocore_python_yaml_missing)
    message(FATAL_ERROR "${ESOCORE_PYTHON} cannot import yaml: install python3-yaml "
                        "(scripts/bootstrap.sh run)")
endif()

function(esocore_embed_openapi cpp_output json_output)
    set(openapi_dir "${CMAKE_CURRENT_SOURCE_DIR}/openapi")
    set(bundler "${PROJECT_SOURCE_DIR}/scripts/openapi-bundle.py")
    file(GLOB area_files CONFIGURE_DEPENDS "${openapi_dir}/paths/*.yaml")
    add_custom_command(
        OUTPUT "${cpp_output}" "${json_output}"
        COMMAND "${ESOCORE_PYTHON}" "${bundler}" --openapi-dir "${openapi_dir}"
                --json "${json_output}" --cpp "${cpp_output}" --version "${PROJECT_VERSION}"
        DEPENDS "${bundler}" "${openapi_dir}/openapi.yaml" ${area_files}
        COMMENT "Bundling the OpenAPI document"
        VERBATIM)
endfunction()
