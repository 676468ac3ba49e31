# The learning model (pure C: no libbpf, no SQLite, no I/O), as a static library.
# Included from learner/CMakeLists.txt and, guarded, from tests/unit/CMakeLists.txt.
# The model is the lowest layer of learner/: it reads only include/ (the ABI and the vocabulary).
if(NOT TARGET learnd_model)
  add_library(learnd_model STATIC
    ${CMAKE_CURRENT_LIST_DIR}/model.c
    ${CMAKE_CURRENT_LIST_DIR}/bandit.c
    ${CMAKE_CURRENT_LIST_DIR}/quantile.c)
  target_include_directories(learnd_model PUBLIC
    ${CMAKE_CURRENT_LIST_DIR}/../../include
    ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(learnd_model PUBLIC m)
endif()
