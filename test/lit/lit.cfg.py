# lit configuration for Fathom. Tests are .mlir (dialect, passes) and .test (tools) files.
import os
import shutil
import subprocess
import lit.formats

config.name = "fathom"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.fathom_obj_root, "test", "lit")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in", "Inputs"]

path = os.pathsep.join([config.fathom_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ.get("PATH", ""))])
config.environment["PATH"] = path

config.substitutions.append(("%fathom_src", config.fathom_src_root))
config.substitutions.append(("%reference", os.path.join(config.fathom_src_root, "test", "reference")))
config.substitutions.append(("%shared_testdata", config.shared_testdata_dir))

if config.fathom_compiler_enabled:
    config.available_features.add("compiler")
if config.fathom_have_mpi:
    # mpirun as root (CI containers) needs both variables; vader's CMA copy needs ptrace rights.
    config.available_features.add("mpi")
    config.substitutions.append(("%mpirun", config.mpiexec))
    for name, value in (("OMPI_ALLOW_RUN_AS_ROOT", "1"), ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                        ("OMPI_MCA_btl_vader_single_copy_mechanism", "none"),
                        ("OMPI_MCA_rmaps_base_oversubscribe", "1")):
        config.environment[name] = value
else:
    # The .mlir tests run fathom-opt, which only the compiler build has.
    config.suffixes = [".test"]
if os.path.isdir(config.shared_testdata_dir):
    config.available_features.add("shared-testdata")
# The CUDA backend is in the runtime (built where nvcc was found); a GPU is present or not.
if os.path.exists(os.path.join(config.fathom_tools_dir, "fathom_cuda_tests")):
    config.available_features.add("cuda-backend")
if shutil.which("nvidia-smi") and subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0:
    config.available_features.add("cuda-device")
