/* A shared library that is not a Loom plugin: it has no loom_plugin_init. */
__attribute__((visibility("default"))) int some_other_library_function(void) { return 42; }
