# Tests of the traffic simulator (src/simulate) and of `vigil simulate` / `vigil demo`.
vigil_test(simulate_test SOURCES simulate/traffic_test.cc simulate/scenario_test.cc
  DEPS vigil_simulate vigil_pipeline vigil_api)
vigil_test(simulate_server_test SOURCES simulate/simulate_server_test.cc
  DEPS vigil_client SQLite::SQLite3 ${VIGIL_TEST_DEPS} LABELS integration)
add_dependencies(simulate_server_test vigil)
