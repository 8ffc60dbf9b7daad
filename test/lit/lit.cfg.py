import os

import lit.formats

config.name = "giga"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.giga_binary_dir, "test", "lit")

# giga's tools first, then FileCheck, not, split-file from LLVM.
path = os.pathsep.join([config.giga_tools_dir, config.llvm_tools_dir,
                        config.environment.get("PATH", os.environ["PATH"])])
config.environment["PATH"] = path
config.substitutions.append(("%configs", os.path.join(config.giga_source_dir, "configs")))
