"""Starts Courier's map_server: publishes a Nav2 map (.yaml + .pgm) on /map (latched).

    ros2 launch launch/map_server.launch.py params:=launch/params/warehouse_agv.yaml
    ros2 launch launch/map_server.launch.py map:=/abs/path/my_map.yaml

`params` is a robot parameter file (launch/params/*.yaml); `map`, when given, overrides its
yaml_filename. Run from the repository root (the parameter files hold relative map paths).
Needs courier_ros built by colcon (see ros/package.xml).
"""

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

HERE = os.path.dirname(os.path.abspath(__file__))


def map_server(context):
    parameters = [LaunchConfiguration("params").perform(context)]
    map_yaml = LaunchConfiguration("map").perform(context)
    if map_yaml:
        parameters.append({"yaml_filename": map_yaml})
    return [
        Node(
            package="courier_ros",
            executable="map_server",
            name="map_server",
            output="screen",
            parameters=parameters,
        )
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument(
            "params",
            default_value=os.path.join(HERE, "params", "warehouse_agv.yaml"),
            description="robot parameter file (launch/params/*.yaml)",
        ),
        DeclareLaunchArgument(
            "map", default_value="",
            description="Nav2 map .yaml; empty keeps the parameter file's yaml_filename",
        ),
        OpaqueFunction(function=map_server),
    ])
