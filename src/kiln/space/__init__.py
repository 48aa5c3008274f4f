"""Design spaces: parameters, constraints, candidate pools, and their model coordinates."""

from kiln.space.config import Domain, parameter_from_config, space_from_config
from kiln.space.constraints import Composition, LinearConstraint
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer, Parameter
from kiln.space.pool import CandidatePool
from kiln.space.pool_image import PoolImage, pixel_pool
from kiln.space.search_space import SearchSpace

__all__ = [
    "CandidatePool",
    "Categorical",
    "Composition",
    "Continuous",
    "Discrete",
    "Domain",
    "Integer",
    "LinearConstraint",
    "Parameter",
    "PoolImage",
    "SearchSpace",
    "parameter_from_config",
    "pixel_pool",
    "space_from_config",
]
