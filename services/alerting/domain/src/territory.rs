//! The French administrative tree (communes, EPCI, departments, regions) and perimeter resolution.
